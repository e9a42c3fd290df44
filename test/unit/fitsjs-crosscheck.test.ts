// A second, independent reading of the fixtures with fitsjs (the library the design card named;
// kept as a dev dependency only, see README "Why not fitsjs at runtime"). fitsjs is a browser
// library: it needs Blob/FileReader, a Worker replacement to decode images, and reports through
// callbacks that may never fire, so every call here runs under a timeout and only complete,
// uncompressed bytes are given to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { readFits, CardValue } from '../../src/core/fits';
import { SPECTRUM_FIXTURES, fixture } from '../support/paths';

interface FitsjsHeader { cards: Record<string, { value: unknown } | unknown[]>; get(k: string): unknown }
interface FitsjsHdu { header: FitsjsHeader; data?: FitsjsData }
interface FitsjsData {
  width: number; height: number; bitpix: number; bzero: number; bscale: number;
  getFrame(frame: number, cb: (arr: ArrayLike<number>) => void): void;
  getColumn(name: string, cb: (arr: ArrayLike<number>) => void): void;
  _getFrame(buffer: ArrayBuffer, bitpix: number, bzero: number, bscale: number): Float32Array;
  invoke(cb: unknown, opts: unknown, data: unknown): void;
}
interface FitsjsFile { hdus: FitsjsHdu[] }
type FitsjsCtor = new (arg: Blob, cb: (this: FitsjsFile) => void) => FitsjsFile;

/** Node stand-ins for the browser APIs fitsjs calls. */
function loadFitsjs(): FitsjsCtor {
  const g = globalThis as Record<string, unknown>;
  class FileReaderShim {
    result: ArrayBuffer | null = null;
    onloadend: ((e: { target: FileReaderShim }) => void) | null = null;
    readAsArrayBuffer(blob: Blob): void {
      void blob.arrayBuffer().then((buf) => {
        this.result = buf;
        this.onloadend?.({ target: this });
      });
    }
  }
  g.FileReader ??= FileReaderShim;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('fitsjs') as { astro: { FITS: FitsjsCtor & { Image: { prototype: FitsjsData & { _getFrameAsync: unknown } } } } };
  g.astro = mod.astro; // fitsjs looks its classes up through a global `astro`
  // Images are decoded in a Web Worker built from blob URLs; decode in-process instead.
  mod.astro.FITS.Image.prototype._getFrameAsync = function (this: FitsjsData, buffers: ArrayBuffer[], cb: unknown, opts: unknown) {
    const parts = buffers.map((b) => this._getFrame(b, this.bitpix, this.bzero, this.bscale));
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    this.invoke(cb, opts, out);
  };
  return mod.astro.FITS;
}

const FITS = loadFitsjs();

function withTimeout<T>(what: string, ms: number, start: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fitsjs did not call back within ${ms} ms: ${what}`)), ms);
    timer.unref();
    try {
      start((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    } catch (e) {
      clearTimeout(timer);
      reject(e);
    }
  });
}

function plainBytes(name: string): Uint8Array {
  const raw = readFileSync(fixture(name));
  return raw[0] === 0x1f ? gunzipSync(raw) : raw;
}

function openFitsjs(name: string): Promise<FitsjsFile> {
  const bytes = plainBytes(name);
  return withTimeout(`open ${name}`, 10_000, (done) => {
    new FITS(new Blob([bytes]), function (this: FitsjsFile) {
      done(this);
    });
  });
}

/** Compares every header value both readers can represent; returns how many were compared. */
function compareHeaders(name: string, fjs: FitsjsFile): number {
  const ours = readFits(plainBytes(name), { source: name });
  assert.equal(fjs.hdus.length, ours.hdus.length, 'HDU count');
  let compared = 0;
  let continued = 0;
  ours.hdus.forEach((h, i) => {
    const theirs = fjs.hdus[i].header;
    const counts = new Map<string, number>();
    for (const c of h.header.cards) counts.set(c.keyword, (counts.get(c.keyword) ?? 0) + 1);
    for (const c of h.header.cards) {
      const v: CardValue = c.value;
      if (v === null || counts.get(c.keyword)! > 1 || c.keyword.includes(' ')) continue;
      const t = theirs.cards[c.keyword] as { value: unknown } | undefined;
      const label = `${name} HDU ${i} ${c.keyword}`;
      assert.ok(t, `${label}: fitsjs has no such card`);
      if (typeof v === 'number' || typeof v === 'bigint') {
        // fitsjs uses parseFloat: a D exponent is not understood there, so those cards are skipped.
        if (/d/i.test(c.valueText)) continue;
        assert.equal(t.value, Number(v), label);
      } else if (typeof v === 'boolean') {
        assert.ok(t.value === v || t.value === (v ? 'T' : 'F'), label);
      } else {
        // fitsjs splits at ' /' even inside quotes and keeps '' doubled: compare only plain strings.
        if (c.valueText.includes("'") || v.includes(' /')) continue;
        const tv = String(t.value).trim();
        if (tv.endsWith('&') && v.length > tv.length) {
          // fitsjs does not join CONTINUE cards: its value is our first card's part.
          assert.ok(v.startsWith(tv.slice(0, -1)), label);
          continued++;
        } else {
          assert.equal(tv, v.trim(), label);
        }
      }
      compared++;
    }
  });
  if (continued) console.log(`# ${name}: ${continued} CONTINUE strings joined by SpecVet, cut at '&' by fitsjs`);
  return compared;
}

// Every fixture but the DESI spectra file, whose MASK HDUs are tile-compressed (not given to fitsjs).
const HEADER_FIXTURES = SPECTRUM_FIXTURES.filter((name) => name !== 'spectra-sv3-dark-26065.fits');

for (const name of HEADER_FIXTURES) {
  test(`fitsjs reads the same header values as SpecVet: ${name}`, { timeout: 30_000 }, async () => {
    const fjs = await openFitsjs(name);
    const n = compareHeaders(name, fjs);
    assert.ok(n > 20, `only ${n} cards compared`);
  });
}

test('fitsjs and SpecVet read the same LAMOST image pixels (all five rows)', { timeout: 30_000 }, async () => {
  for (const name of ['spec-55862-B6212_sp06-025.fits', 'spec-57287-KP193637N444141V03_sp10-161.fits.gz']) {
    const fjs = await openFitsjs(name);
    const data = fjs.hdus[0].data!;
    const theirs = await withTimeout<ArrayLike<number>>(`getFrame ${name}`, 10_000, (done) => data.getFrame(0, done));
    const ours = readFits(plainBytes(name)).hdus[0].image().read() as Float32Array;
    assert.equal(theirs.length, ours.length);
    assert.deepEqual(Array.from(theirs), Array.from(ours), name);
  }
});

test('fitsjs and SpecVet read the same SDSS spSpec image and spec COADD float columns', { timeout: 30_000 }, async () => {
  const sp = await openFitsjs('spSpec-52999-1307-323.fit');
  const frame = await withTimeout<ArrayLike<number>>('getFrame spSpec', 10_000, (done) => sp.hdus[0].data!.getFrame(0, done));
  assert.deepEqual(Array.from(frame), Array.from(readFits(plainBytes('spSpec-52999-1307-323.fit')).hdus[0].image().read() as Float32Array));

  const name = 'sdss_dr18_0358-51818-0504.fits';
  const fjs = await openFitsjs(name);
  const coadd = readFits(plainBytes(name)).hdus[1].table();
  for (const col of ['flux', 'loglam', 'ivar', 'sky', 'and_mask']) {
    const theirs = await withTimeout<ArrayLike<number>>(`getColumn ${col}`, 10_000, (done) => fjs.hdus[1].data!.getColumn(col, done));
    const ours = coadd.column(col) as ArrayLike<number>;
    assert.equal(theirs.length, ours.length, col);
    // fitsjs returns J columns as Uint32Array (sign lost); compare as unsigned.
    for (let i = 0; i < ours.length; i++) assert.equal(theirs[i], col === 'and_mask' ? ours[i] >>> 0 : ours[i], `${col}[${i}]`);
  }
});
