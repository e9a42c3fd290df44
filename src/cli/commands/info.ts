// `specvet info <file> [--json]`: what a spectrum file holds, from the same core the extension uses.
import { SpecVetError } from '../../core/errors';
import { openSpectrumFile } from '../../core/spectrum/open';
import type { SpectrumFile } from '../../core/spectrum/model';
import { flagSet, parseArgs } from '../args';
import type { CliCommand } from './index';

const USAGE = `Usage: specvet info <file> [--json]

Summarises a LAMOST, SDSS or DESI spectrum file (.fits, .fit, .fts, .fits.gz):
its format, the spectra it holds and its HDUs.

  --json   one JSON object: {file, format, survey, spectra: [...], hdus: [...]}
`;

/** The JSON shape of `specvet info --json` (catalogue rows added for redrock files). */
export function infoJson(file: string, sf: SpectrumFile): Record<string, unknown> {
  const out: Record<string, unknown> = {
    file,
    format: sf.format,
    survey: sf.survey,
    spectra: sf.spectra.map((s) => ({
      index: s.index,
      id: s.id,
      nPixels: s.nPixels,
      wavelengthMin: s.wavelengthMin,
      wavelengthMax: s.wavelengthMax,
      redshift: s.redshift,
      objectClass: s.objectClass,
      ra: s.ra,
      dec: s.dec,
    })),
    hdus: sf.hdus.map((h) => ({ index: h.index, name: h.name, kind: h.kind })),
  };
  if (sf.catalog) out.catalog = sf.catalog;
  return out;
}

function fmt(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => '  ' + r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

export function infoText(file: string, sf: SpectrumFile): string {
  const lines: string[] = [];
  lines.push(`${file}`);
  const what = sf.catalog ? `${sf.catalog.length} redshift row${sf.catalog.length === 1 ? '' : 's'}` : `${sf.spectra.length} spectr${sf.spectra.length === 1 ? 'um' : 'a'}`;
  lines.push(`  ${sf.survey} ${sf.format}: ${what}`);
  if (sf.spectra.length) {
    lines.push('', 'Spectra:');
    const rows = [['#', 'id', 'pixels', 'λ range (Å)', 'z', 'class', 'RA', 'Dec', '']];
    for (const s of sf.spectra) {
      rows.push([
        String(s.index),
        s.id,
        String(s.nPixels),
        `${fmt(s.wavelengthMin, 1)}–${fmt(s.wavelengthMax, 1)}`,
        fmt(s.redshift, 5),
        s.objectClass ?? '—',
        fmt(s.ra, 5),
        fmt(s.dec, 5),
        s.empty ? 'empty fibre' : '',
      ]);
    }
    lines.push(table(rows));
  }
  if (sf.catalog) {
    lines.push('', 'Redshift catalogue:');
    const rows = [['targetid', 'z', 'z err', 'zwarn', 'type', 'subtype', 'Δχ²']];
    for (const r of sf.catalog) {
      rows.push([r.targetId, fmt(r.z, 6), r.zErr === null ? '—' : r.zErr.toExponential(2), r.zWarn === null ? '—' : String(r.zWarn), r.spectype || '—', r.subtype || '—', fmt(r.deltaChi2, 1)]);
    }
    lines.push(table(rows));
  }
  lines.push('', 'HDUs:');
  lines.push(table(sf.hdus.map((h) => [String(h.index), h.name || '(unnamed)', h.kind, h.detail + (h.skipped ? ` — skipped: ${h.skipped}` : '')])));
  return lines.join('\n') + '\n';
}

export const infoCommand: CliCommand = {
  summary: 'summarise a LAMOST, SDSS or DESI spectrum file (format, spectra, HDUs)',
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const p = parseArgs(args, { json: { arity: 0 } });
    if (p.positionals.length !== 1) {
      throw new SpecVetError('usage', p.positionals.length ? `expected one file, got ${p.positionals.length}` : 'missing <file> (usage: specvet info <file> [--json])');
    }
    const file = p.positionals[0];
    const sf = openSpectrumFile(file);
    process.stdout.write(flagSet(p, 'json') ? JSON.stringify(infoJson(file, sf), null, 2) + '\n' : infoText(file, sf));
    return 0;
  },
};
