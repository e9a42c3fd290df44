// Line and band names in guide text ("Hα", "He II 4686", "Ca II H&K", "C₂ Swan", "[O I] 5577"...)
// resolved to the markers of src/shared/lines.ts, for hovers. The patterns are the grammar's own
// (syntaxes/guide.tmLanguage.json, repository "line-names"), so what is coloured as a line name is
// exactly what can be hovered.
import grammar from '../../../syntaxes/guide.tmLanguage.json';
import { LINE_GROUPS, airToVacuum, vacuumToAir, type LineGroup, type LineGroupId, type LineMarker } from '../../shared/lines';

export interface LineNameMatch {
  /** Column range of the name on its line (UTF-16 code units, end exclusive). */
  start: number;
  end: number;
  text: string;
  group: LineGroup;
  /** The markers the name designates: one line, a doublet, or the whole group for a bare band name. */
  lines: LineMarker[];
}

interface NamePattern {
  group: LineGroup;
  re: RegExp;
}

const SCOPE = /^support\.constant\.line\.([a-z0-9]+)\.specvet-guide$/;

const PATTERNS: NamePattern[] = (grammar.repository['line-names'].patterns as Array<{ match: string; captures: Record<string, { name: string }> }>).map((p) => {
  const id = SCOPE.exec(p.captures['1'].name)?.[1] as LineGroupId | undefined;
  const group = LINE_GROUPS.find((g) => g.id === id);
  if (!group) throw new Error(`grammar line-name scope ${p.captures['1'].name} has no group in src/shared/lines.ts`);
  return { group, re: new RegExp(p.match, 'g') };
});

/** Every line or band name on one line of text, left to right, without overlaps. */
export function findLineNames(line: string): LineNameMatch[] {
  const found: LineNameMatch[] = [];
  for (const { group, re } of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      if (!m[1]) {
        re.lastIndex = m.index + 1;
        continue;
      }
      found.push({ start: m.index, end: m.index + m[1].length, text: m[1], group, lines: designatedLines(group, m[1]) });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: LineNameMatch[] = [];
  for (const f of found) if (!out.length || f.start >= out[out.length - 1].end) out.push(f);
  return out;
}

/** The name under a column (a hover position), or null. */
export function lineNameAt(line: string, col: number): LineNameMatch | null {
  return findLineNames(line).find((m) => col >= m.start && col <= m.end) ?? null;
}

const GREEK: Record<string, string> = { α: 'Hα', alpha: 'Hα', β: 'Hβ', beta: 'Hβ', γ: 'Hγ', gamma: 'Hγ', δ: 'Hδ', delta: 'Hδ', ε: 'Hε', epsilon: 'Hε' };

/** Which markers of the group a name designates. */
function designatedLines(group: LineGroup, text: string): LineMarker[] {
  const byLabel = (...labels: string[]) => group.lines.filter((l) => labels.includes(l.label));
  const numbers = [...text.matchAll(/\d{4}(?:\.\d+)?/g)].map((m) => Number(m[0]));
  if (numbers.length) {
    if (group.id === 'mgb' && numbers.length === 2) return group.lines.filter((l) => l.air >= numbers[0] - 3 && l.air <= numbers[1] + 3);
    const hits = group.lines.filter((l) => numbers.some((n) => Math.abs(l.air - n) <= 3 || (l.airEnd !== undefined && n >= l.air && n <= l.airEnd)));
    if (hits.length) return hits;
  }
  switch (group.id) {
    case 'balmer': {
      const g = /(α|β|γ|δ|ε|alpha|beta|gamma|delta|epsilon)/i.exec(text);
      return g ? byLabel(GREEK[g[1].toLowerCase()] ?? GREEK[g[1]]) : group.lines;
    }
    case 'caii':
      if (/H\s?(?:&|and)\s?K/.test(text)) return byLabel('Ca II K', 'Ca II H');
      if (/triplet/.test(text)) return group.lines.filter((l) => l.air > 8000);
      if (/\bH$/.test(text)) return byLabel('Ca II H');
      if (/\bK$/.test(text)) return byLabel('Ca II K');
      return group.lines;
    case 'nai':
      if (/D\s?1$/.test(text)) return byLabel('Na D1');
      if (/D\s?2$/.test(text)) return byLabel('Na D2');
      if (/D$/.test(text)) return byLabel('Na D2', 'Na D1');
      return group.lines;
    case 'sky':
      if (/^\[O/.test(text)) return group.lines.filter((l) => l.label.startsWith('[O I]'));
      if (/^O(?:2|₂)\s?A/.test(text)) return byLabel('O₂ A');
      if (/^O(?:2|₂)\s?B/.test(text)) return byLabel('O₂ B');
      if (/^O(?:2|₂)/.test(text)) return byLabel('O₂ A', 'O₂ B');
      if (/^H(?:2|₂)O/.test(text)) return byLabel('H₂O');
      return group.lines.filter((l) => l.airEnd !== undefined);
    default:
      return group.lines;
  }
}

/** Air and vacuum wavelengths of a marker, as shown in hovers (one decimal, Å). */
export function markerWavelengths(m: LineMarker): { air: string; vacuum: string } {
  const f = (x: number) => x.toFixed(1);
  if (m.airEnd !== undefined) return { air: `${f(m.air)}–${f(m.airEnd)}`, vacuum: `${f(airToVacuum(m.air))}–${f(airToVacuum(m.airEnd))}` };
  return { air: f(m.air), vacuum: f(airToVacuum(m.air)) };
}

/** Markdown for a hover on a line name: the markers it designates with air and vacuum wavelengths. */
export function lineNameHoverMarkdown(m: LineNameMatch): string {
  const rows = m.lines.map((l) => {
    const w = markerWavelengths(l);
    return `| ${l.label}${l.band ? ' (band head)' : ''} | ${w.air} | ${w.vacuum} |`;
  });
  const frame = m.group.observedFrame ? 'Observed frame (night sky / telluric: not redshifted).' : 'Rest frame; the zoom tool reads windows in the rest frame when the redshift is known.';
  return [`**${m.text}** — ${m.group.name}`, '', '| feature | air Å | vacuum Å |', '|---|---:|---:|', ...rows, '', `${frame} LAMOST, SDSS and DESI wavelengths are in vacuum.`].join('\n');
}

export interface WavelengthMention {
  start: number;
  end: number;
  /** In Å (a value written in nm is converted). */
  angstrom: number;
  text: string;
}

/** An optical wavelength written at a column ("6563", "6563 Å", "656.3 nm"), or null. */
export function wavelengthAt(line: string, col: number): WavelengthMention | null {
  for (const m of line.matchAll(/(?<![\w.])(\d{3,5}(?:\.\d+)?)(?:\s?(Å|A|nm)(?![\w]))?/g)) {
    const start = m.index!;
    const end = start + m[0].length;
    if (col < start || col > end) continue;
    const v = Number(m[1]) * (m[2] === 'nm' ? 10 : 1);
    if (v < 3000 || v > 11000) return null;
    return { start, end, angstrom: v, text: m[0] };
  }
  return null;
}

/** Markdown for a hover on a wavelength: both media, and the markers within 15 Å of it. */
export function wavelengthHoverMarkdown(w: WavelengthMention): string {
  const f = (x: number) => x.toFixed(1);
  const near = LINE_GROUPS.flatMap((g) => g.lines.filter((l) => Math.abs(l.air - w.angstrom) <= 15 || (l.airEnd !== undefined && w.angstrom >= l.air && w.angstrom <= l.airEnd)).map((l) => ({ l, g })));
  near.sort((a, b) => Math.abs(a.l.air - w.angstrom) - Math.abs(b.l.air - w.angstrom));
  const rows = near.map(({ l, g }) => {
    const mw = markerWavelengths(l);
    return `| ${l.label} (${g.name}) | ${mw.air} | ${mw.vacuum} |`;
  });
  return [
    `**${f(w.angstrom)} Å** — as air: ${f(airToVacuum(w.angstrom))} Å in vacuum; as vacuum: ${f(vacuumToAir(w.angstrom))} Å in air`,
    ...(rows.length ? ['', 'Nearby features:', '', '| feature | air Å | vacuum Å |', '|---|---:|---:|', ...rows] : ['', 'No catalogued line or band head within 15 Å.']),
  ].join('\n');
}

export interface LineCompletion {
  /** As shown in the list, e.g. "Hα" or "He II 4686". */
  label: string;
  /** What is inserted: the name with its wavelength, e.g. "Hα 6563 Å". */
  insertText: string;
  /** ASCII spellings too, so "halpha" or "Ha" finds Hα. */
  filterText: string;
  /** Group and wavelengths, e.g. "Balmer — 6562.8 Å air, 6564.6 Å vacuum". */
  detail: string;
}

const GREEK_ASCII: Record<string, string> = { α: 'alpha', β: 'beta', γ: 'gamma', δ: 'delta', ε: 'epsilon', '₂': '2' };

/** Every marker of src/shared/lines.ts as a completion for guide text. */
export function lineNameCompletions(): LineCompletion[] {
  return LINE_GROUPS.flatMap((g) =>
    g.lines.map((l) => {
      const w = markerWavelengths(l);
      const wavelength = l.airEnd !== undefined ? `${Math.round(l.air)}–${Math.round(l.airEnd)} Å` : `${Math.round(l.air)} Å`;
      const hasNumber = /\d{4}/.test(l.label);
      const insertText = hasNumber ? `${l.label} Å` : `${l.label} ${wavelength}`;
      const ascii = l.label.replace(/[αβγδε₂]/g, (c) => GREEK_ASCII[c] ?? c);
      return {
        label: l.label,
        insertText,
        filterText: [...new Set([l.label, ascii, ascii.replace(/\s+/g, ''), ascii.replace(/^H(alpha|beta|gamma|delta|epsilon)$/, 'H-$1')])].join(' '),
        detail: `${g.name} — ${w.air} Å air, ${w.vacuum} Å vacuum${l.band ? ' (band head)' : ''}`,
      };
    }),
  );
}
