// Read benchmark: parse + adapt time per real fixture (median of repeated runs), and for a
// generated DESI-like coadd of 500 spectra × 7781 pixels (real HDU layout: FIBERMAP, EXP_FIBERMAP,
// B/R/Z WAVELENGTH, FLUX, IVAR, MASK, RESOLUTION, SCORES) the time to list its spectra, to get one
// spectrum, and the peak memory — measured in a child process so the generator does not count.
// Prints figures against the issue's targets; never fails on a missed target.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSpectrumFile, readSpectrumFile } from '../src/core/spectrum/open';
import { bintableHdu, encodeBigEndian, headerBytes } from '../test/support/fits-writer';
import { SPECTRUM_FIXTURES, fixture } from '../test/support/paths';
import { prng } from '../test/support/random';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function verdict(value: number, target: number): string {
  return value <= target ? 'OK' : 'MISSED';
}

function benchFixtures(): void {
  console.log('parse + adapt per fixture (bytes in memory → SpectrumFile → first spectrum), median of 50 runs:');
  for (const name of SPECTRUM_FIXTURES) {
    const bytes = readFileSync(fixture(name));
    const runOnce = () => {
      const sf = readSpectrumFile(bytes, name);
      if (sf.spectra.length) sf.get(sf.spectra.find((s) => !s.empty)?.index ?? 0);
    };
    for (let i = 0; i < 5; i++) runOnce(); // warm-up (JIT)
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      runOnce();
      times.push(performance.now() - t0);
    }
    const m = median(times);
    const target = /^(spec-|sdss_|spSpec)/.test(name) ? 5 : null;
    const tail = target === null ? '' : ` (target ≤ ${target} ms) ${verdict(m, target)}`;
    console.log(`  ${name.padEnd(48)} ${m.toFixed(2).padStart(7)} ms${tail}`);
  }
}

// ---- DESI-like coadd generator -------------------------------------------------------------

const N_SPEC = 500;
const ARMS = [
  { name: 'B', start: 3600, n: 2751 },
  { name: 'R', start: 5760, n: 2326 },
  { name: 'Z', start: 7520, n: 2881 },
];
const N_DIAG = 11;

/** Streams one image HDU: header, then data produced spectrum by spectrum, then block padding. */
function writeImage(fd: number, name: string, bitpix: number, shape: number[], rows: (s: number) => ArrayLike<number>, nRows: number): void {
  const cards: Array<[string, string | number | boolean]> = [
    ['XTENSION', 'IMAGE'], ['BITPIX', bitpix], ['NAXIS', shape.length],
    ...shape.map((n, i): [string, number] => [`NAXIS${i + 1}`, n]),
    ['PCOUNT', 0], ['GCOUNT', 1], ['EXTNAME', name],
  ];
  if (/_FLUX$/.test(name)) cards.push(['BUNIT', '10**-17 erg/(s cm2 Angstrom)']);
  writeSync(fd, headerBytes(cards));
  let written = 0;
  for (let s = 0; s < nRows; s++) {
    const b = encodeBigEndian(bitpix, rows(s) as Float32Array);
    writeSync(fd, b);
    written += b.length;
  }
  const pad = (2880 - (written % 2880)) % 2880;
  if (pad) writeSync(fd, new Uint8Array(pad));
}

function generateCoadd(path: string): void {
  const rnd = prng(42);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, headerBytes([['SIMPLE', true], ['BITPIX', 8], ['NAXIS', 0], ['EXTEND', true], ['SPGRP', 'healpix'], ['SPGRPVAL', 26065]]));
    // Every 25th fibre is empty (negative TARGETID, zero flux), as unassigned fibres are in real files.
    const empty = (s: number) => s % 25 === 7;
    const targetIds = Array.from({ length: N_SPEC }, (_, s) => (empty(s) ? BigInt(-2713437 - s) : 39627866878511337n + BigInt(s * 1013)));
    writeSync(fd, bintableHdu({
      nRows: N_SPEC,
      cards: [['EXTNAME', 'FIBERMAP']],
      columns: [
        { name: 'TARGETID', tform: 'K', values: targetIds },
        { name: 'COADD_FIBERSTATUS', tform: 'J', values: Array.from({ length: N_SPEC }, () => 0) },
        { name: 'TARGET_RA', tform: 'D', values: Array.from({ length: N_SPEC }, () => 216 + rnd()) },
        { name: 'TARGET_DEC', tform: 'D', values: Array.from({ length: N_SPEC }, () => 3 + rnd()) },
        { name: 'OBJTYPE', tform: '3A', values: Array.from({ length: N_SPEC }, (_, s) => (empty(s) ? 'SKY' : 'TGT')) },
        { name: 'BRICKNAME', tform: '8A', values: Array.from({ length: N_SPEC }, () => '2169p032') },
        { name: 'FLUX_G', tform: 'E', values: Array.from({ length: N_SPEC }, () => rnd() * 10) },
        { name: 'FLUX_R', tform: 'E', values: Array.from({ length: N_SPEC }, () => rnd() * 10) },
        { name: 'FLUX_Z', tform: 'E', values: Array.from({ length: N_SPEC }, () => rnd() * 10) },
        { name: 'DESI_TARGET', tform: 'K', values: Array.from({ length: N_SPEC }, () => 1n) },
        { name: 'COADD_NUMEXP', tform: 'I', values: Array.from({ length: N_SPEC }, () => 3) },
      ],
    }));
    writeSync(fd, bintableHdu({
      nRows: N_SPEC * 2,
      cards: [['EXTNAME', 'EXP_FIBERMAP']],
      columns: [
        { name: 'TARGETID', tform: 'K', values: [...targetIds, ...targetIds] },
        { name: 'EXPID', tform: 'J', values: Array.from({ length: N_SPEC * 2 }, (_, i) => 83734 + (i >= N_SPEC ? 1 : 0)) },
        { name: 'MJD', tform: 'D', values: Array.from({ length: N_SPEC * 2 }, () => 59311.3) },
      ],
    }));
    for (const arm of ARMS) {
      const wl = Float64Array.from({ length: arm.n }, (_, i) => arm.start + 0.8 * i);
      writeImage(fd, `${arm.name}_WAVELENGTH`, -64, [arm.n], () => wl, 1);
      const flux = new Float32Array(arm.n);
      writeImage(fd, `${arm.name}_FLUX`, -32, [arm.n, N_SPEC], (s) => {
        if (empty(s)) return flux.fill(0);
        const level = 1 + 5 * rnd();
        for (let i = 0; i < arm.n; i++) flux[i] = level * (1 + 0.3 * Math.sin(wl[i] / 300)) + (rnd() - 0.5) + (Math.abs(wl[i] - 6563 * 1.2) < 4 ? 8 : 0);
        return flux;
      }, N_SPEC);
      const ivar = new Float32Array(arm.n);
      writeImage(fd, `${arm.name}_IVAR`, -32, [arm.n, N_SPEC], (s) => {
        for (let i = 0; i < arm.n; i++) ivar[i] = empty(s) ? 0 : 2 + rnd();
        return ivar;
      }, N_SPEC);
      const mask = new Int32Array(arm.n);
      writeImage(fd, `${arm.name}_MASK`, 32, [arm.n, N_SPEC], (s) => {
        for (let i = 0; i < arm.n; i++) mask[i] = empty(s) || rnd() < 0.01 ? 1 << 16 : 0;
        return mask;
      }, N_SPEC);
      const res = new Float32Array(arm.n * N_DIAG);
      for (let d = 0; d < N_DIAG; d++) for (let i = 0; i < arm.n; i++) res[d * arm.n + i] = Math.exp(-((d - 5) ** 2) / 4);
      writeImage(fd, `${arm.name}_RESOLUTION`, -32, [arm.n, N_DIAG, N_SPEC], () => res, N_SPEC);
    }
    writeSync(fd, bintableHdu({
      nRows: N_SPEC,
      cards: [['EXTNAME', 'SCORES']],
      columns: [
        { name: 'TARGETID', tform: 'K', values: targetIds },
        ...ARMS.map((a) => ({ name: `MEDIAN_COADD_SNR_${a.name}`, tform: 'E', values: Array.from({ length: N_SPEC }, () => rnd() * 5) })),
      ],
    }));
  } finally {
    closeSync(fd);
  }
}

/** Child mode: open the generated file, list it, get spectra; report times and peak RSS. */
function child(path: string): void {
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const sf = openSpectrumFile(path);
  const listMs = performance.now() - t0;
  const getTimes: number[] = [];
  for (const i of [0, 1, 137, 250, 499, 3, 42, 321, 400, 77]) {
    const t = performance.now();
    const s = sf.get(i);
    getTimes.push(performance.now() - t);
    if (s.wavelength.length !== sf.spectra[i].nPixels) throw new Error('pixel count mismatch');
  }
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({
    listMs, firstGetMs: getTimes[0], medianGetMs: median(getTimes), nSpectra: sf.spectra.length, nPixels: sf.spectra[0].nPixels,
    empty: sf.spectra.filter((s) => s.empty).length, peakRssBytes, rssBefore,
  }));
}

function benchDesi(): void {
  const dir = mkdtempSync(join(tmpdir(), 'specvet-bench-'));
  const path = join(dir, 'coadd-bench-500.fits');
  try {
    const t0 = performance.now();
    generateCoadd(path);
    const size = statSync(path).size;
    console.log(`\ngenerated DESI-like coadd: ${N_SPEC} spectra, arms ${ARMS.map((a) => `${a.name} ${a.n}`).join(' / ')} px, ${(size / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s (${path}, removed afterwards)`);
    const r = spawnSync(process.execPath, [__filename, '--child', path], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout);
    console.log(`  ${m.nSpectra} spectra × ${m.nPixels} combined pixels, ${m.empty} empty fibres`);
    console.log(`  list (read file + headers + FIBERMAP + empty-fibre scan): ${m.listMs.toFixed(1)} ms (target ≤ 1000 ms) ${verdict(m.listMs, 1000)}`);
    console.log(`  get one spectrum: first ${m.firstGetMs.toFixed(1)} ms, median of 10 ${m.medianGetMs.toFixed(1)} ms (target ≤ 50 ms) ${verdict(m.medianGetMs, 50)}`);
    const ratio = m.peakRssBytes / size;
    console.log(`  peak memory (child RSS, incl. Node's ${(m.rssBefore / 1e6).toFixed(0)} MB baseline): ${(m.peakRssBytes / 1e6).toFixed(0)} MB = ${ratio.toFixed(2)}× file size (target < 2×) ${ratio < 2 ? 'OK' : 'MISSED'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3]);
} else {
  benchFixtures();
  benchDesi();
}
