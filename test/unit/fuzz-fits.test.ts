// Fuzzing the reader and adapters with every real fixture mutated: truncation at many offsets,
// bit flips in header bytes, lying NAXISn / NAXIS2 / TFORM / PCOUNT values, and garbage. Every
// input must end in a value or a SpecVetError, promptly: never a hang, never another exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { readFits, FitsFile } from '../../src/core/fits';
import { readSpectrumFile } from '../../src/core/spectrum/open';
import { SpecVetError } from '../../src/core/errors';
import { SPECTRUM_FIXTURES, fixture } from '../support/paths';
import { prng } from '../support/random';

/** A hang detector, not a performance target: one case finishing after this is a bug. */
const CASE_DEADLINE_MS = 2000;

interface Outcome { ok: number; errors: Map<string, number>; slowest: number }

/** Reads the bytes as a user would (open, list, get spectra) and also decodes every HDU's data. */
function exercise(bytes: Uint8Array, name: string): void {
  const sf = readSpectrumFile(bytes, name);
  for (const s of sf.spectra.slice(0, 3)) sf.get(s.index);
  let fits: FitsFile;
  try {
    fits = readFits(bytes, { source: name });
  } catch (e) {
    if (e instanceof SpecVetError) return;
    throw e;
  }
  for (const h of fits.hdus) {
    try {
      if (h.kind === 'image' || (h.kind === 'compressed-image' && !h.skipped)) {
        const img = h.image();
        if (img.length <= 200_000) img.read();
      } else if (h.kind === 'bintable') {
        const t = h.table();
        for (const c of t.columns) if (!c.unsupported) t.read(c, 0, Math.min(t.nRows, 50));
      }
    } catch (e) {
      if (!(e instanceof SpecVetError)) throw e;
    }
  }
}

function runCase(bytes: Uint8Array, name: string, label: string, out: Outcome): void {
  const t0 = performance.now();
  try {
    exercise(bytes, name);
    out.ok++;
  } catch (e) {
    if (!(e instanceof SpecVetError)) {
      assert.fail(`${label}: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
    }
    assert.ok(e.message.length > 0 && e.message.length < 2000, `${label}: error message of ${e.message.length} chars`);
    // open.ts turns unexpected exceptions into 'cannot read the file: …'; none may reach that net.
    assert.doesNotMatch(e.message, /cannot read the file/, `${label}: an unexpected exception escaped the reader`);
    out.errors.set(e.code, (out.errors.get(e.code) ?? 0) + 1);
  }
  const ms = performance.now() - t0;
  out.slowest = Math.max(out.slowest, ms);
  assert.ok(ms < CASE_DEADLINE_MS, `${label}: took ${ms.toFixed(0)} ms`);
}

/** Byte ranges of every header in the (decompressed) file, and the offsets of data starts. */
function layout(bytes: Uint8Array): { headers: Array<[number, number]>; dataStarts: number[] } {
  const f = readFits(bytes);
  return { headers: f.hdus.map((h) => [h.headerOffset, h.dataOffset]), dataStarts: f.hdus.map((h) => h.dataOffset) };
}

/** Replaces the value field (columns 11–30) of the first card `keyword` at or after `from`. */
function setCard(bytes: Uint8Array, from: number, keyword: string, value: string): Uint8Array | null {
  const key = keyword.padEnd(8) + '= ';
  for (let p = from; p + 80 <= bytes.length; p += 80) {
    let match = true;
    for (let i = 0; i < 10; i++) if (bytes[p + i] !== key.charCodeAt(i)) { match = false; break; }
    if (!match) continue;
    const out = bytes.slice();
    const v = value.length >= 20 ? value.slice(0, 20) : value.padStart(20);
    for (let i = 0; i < 20; i++) out[p + 10 + i] = v.charCodeAt(i);
    return out;
  }
  return null;
}

function summary(name: string, o: Outcome): string {
  return `${name}: ${o.ok} read, errors ${JSON.stringify(Object.fromEntries(o.errors))}, slowest ${o.slowest.toFixed(1)} ms`;
}

for (const [fi, name] of SPECTRUM_FIXTURES.entries()) {
  test(`fuzz ${name}: truncations, header bit flips, lying sizes and garbage end in a value or a SpecVetError`, { timeout: 120_000 }, () => {
    const raw = new Uint8Array(readFileSync(fixture(name)));
    const plain = raw[0] === 0x1f ? new Uint8Array(gunzipSync(raw)) : raw;
    const rnd = prng(0x5eed + fi);
    const o: Outcome = { ok: 0, errors: new Map(), slowest: 0 };
    const { headers, dataStarts } = layout(plain);
    const big = plain.length > 1_000_000;

    // 1. Truncation: every block boundary near the HDU edges, and random offsets.
    const cuts = new Set<number>([0, 1, 79, 80, 2879, 2880, plain.length - 1, plain.length - 2880]);
    for (const [h0, d0] of headers) for (const d of [-2880, -80, -1, 0, 1, 80, 2880]) { cuts.add(h0 + d); cuts.add(d0 + d); }
    for (let i = 0; i < (big ? 40 : 120); i++) cuts.add(Math.floor(rnd() * plain.length));
    for (const c of cuts) if (c >= 0 && c < plain.length) runCase(plain.subarray(0, c), name, `truncate at ${c}`, o);
    if (raw !== plain) {
      for (let i = 0; i < 40; i++) {
        const c = Math.floor(rnd() * raw.length);
        runCase(raw.subarray(0, c), name, `truncated gzip at ${c}`, o);
      }
    }

    // 2. Bit flips inside headers (1–4 flips per case).
    for (let i = 0; i < (big ? 150 : 300); i++) {
      const m = plain.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      const where: number[] = [];
      for (let k = 0; k < flips; k++) {
        const [h0, d0] = headers[Math.floor(rnd() * headers.length)];
        // Bias towards the structural cards at the top of each header.
        const span = rnd() < 0.7 ? Math.min(800, d0 - h0) : d0 - h0;
        const p = h0 + Math.floor(rnd() * span);
        m[p] ^= 1 << Math.floor(rnd() * 8);
        where.push(p);
      }
      runCase(m, name, `bit flips at ${where.join(',')}`, o);
    }

    // 3. Lying sizes: structural values replaced in every header.
    const lies = ['0', '1', '-1', '5', '3853', '99999', '2147483647', '2147483648', '9223372036854775807', '1.5', "'X'", 'T', ''];
    for (const [h0] of headers) {
      for (const kw of ['NAXIS', 'NAXIS1', 'NAXIS2', 'NAXIS3', 'BITPIX', 'PCOUNT', 'GCOUNT', 'TFIELDS', 'ZNAXIS1', 'ZTILE1', 'THEAP']) {
        for (const v of big ? ['0', '-1', '99999', '2147483648', "'X'"] : lies) {
          const m = setCard(plain, h0, kw, v);
          if (m) runCase(m, name, `${kw} = ${v} in header at ${h0}`, o);
        }
      }
      for (const [kw, v] of [['TFORM1', "'99999E'"], ['TFORM1', "'1PB(9)'"], ['TFORM2', "'3Z'"], ['TFORM3', "'0E'"], ['TFORM1', "''"], ['ZCMPTYPE', "'RICE_1'"], ['BSCALE', '0'], ['BZERO', "'a'"]] as const) {
        const m = setCard(plain, h0, kw, v);
        if (m) runCase(m, name, `${kw} = ${v} in header at ${h0}`, o);
      }
    }

    // 4. Garbage: random bytes, a valid first card over random bytes, data regions overwritten.
    for (let i = 0; i < 30; i++) {
      const g = new Uint8Array(1 + Math.floor(rnd() * 10000));
      for (let k = 0; k < g.length; k++) g[k] = Math.floor(rnd() * 256);
      if (i % 2) g.set(Buffer.from('SIMPLE  =                    T'), 0);
      runCase(g, name, `garbage #${i}`, o);
    }
    for (let i = 0; i < 20; i++) {
      const m = plain.slice();
      const d0 = dataStarts[Math.floor(rnd() * dataStarts.length)];
      for (let k = 0; k < 2880 && d0 + k < m.length; k++) m[d0 + k] = Math.floor(rnd() * 256);
      runCase(m, name, `data garbage at ${d0}`, o);
    }

    const total = o.ok + [...o.errors.values()].reduce((a, b) => a + b, 0);
    assert.ok(total > 200, `only ${total} cases`);
    console.log(`# ${summary(name, o)}`);
  });
}
