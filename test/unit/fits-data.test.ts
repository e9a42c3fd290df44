// Images for every BITPIX with BZERO/BSCALE, binary tables with every column type we decode,
// gzip input, tile-compressed images, and the limits on lying or absurd sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readFits } from '../../src/core/fits';
import { SpecVetError } from '../../src/core/errors';
import { bintableHdu, concat, headerBytes, imageHdu } from '../support/fits-writer';

function image(bitpix: number, data: Array<number | bigint>, cards: Array<[string, number | bigint | string]> = []) {
  const f = readFits(imageHdu({ bitpix, shape: [data.length], data, cards }), { source: 'img.fits' });
  return f.hdus[0].image();
}

const isCode = (code: string) => (e: unknown) => e instanceof SpecVetError && e.code === code;

test('unscaled images keep their integer types and float widths', () => {
  assert.deepEqual(Array.from(image(8, [0, 7, 255]).read() as Uint8Array), [0, 7, 255]);
  assert.ok(image(8, [1]).read() instanceof Uint8Array);
  const i16 = image(16, [-32768, -1, 32767]).read();
  assert.ok(i16 instanceof Int16Array);
  assert.deepEqual(Array.from(i16 as Int16Array), [-32768, -1, 32767]);
  const i32 = image(32, [-2147483648, 5, 2147483647]).read();
  assert.ok(i32 instanceof Int32Array);
  assert.deepEqual(Array.from(i32 as Int32Array), [-2147483648, 5, 2147483647]);
  const i64 = image(64, [-9223372036854775808n, 39627866878511337n]).read();
  assert.ok(i64 instanceof BigInt64Array);
  assert.deepEqual(Array.from(i64 as BigInt64Array), [-9223372036854775808n, 39627866878511337n]);
  const f32 = image(-32, [1.5, -0.25, NaN]).read();
  assert.ok(f32 instanceof Float32Array);
  assert.deepEqual(Array.from(f32 as Float32Array), [1.5, -0.25, NaN]);
  const f64 = image(-64, [3600.0000000005, -1e300]).read();
  assert.ok(f64 instanceof Float64Array);
  assert.deepEqual(Array.from(f64 as Float64Array), [3600.0000000005, -1e300]);
});

test('the unsigned BZERO conventions give exact unsigned (or signed-byte) arrays', () => {
  const u16 = image(16, [-32768, 0, 32767], [['BZERO', 32768]]).read();
  assert.ok(u16 instanceof Uint16Array);
  assert.deepEqual(Array.from(u16 as Uint16Array), [0, 32768, 65535]);
  const u32 = image(32, [-2147483648, 0, 2147483647], [['BZERO', 2147483648]]).read();
  assert.ok(u32 instanceof Uint32Array);
  assert.deepEqual(Array.from(u32 as Uint32Array), [0, 2147483648, 4294967295]);
  const u64 = image(64, [-9223372036854775808n, 0n, 9223372036854775807n], [['BZERO', 9223372036854775808n]]).read();
  assert.ok(u64 instanceof BigUint64Array);
  assert.deepEqual(Array.from(u64 as BigUint64Array), [0n, 9223372036854775808n, 18446744073709551615n]);
  const i8 = image(8, [0, 128, 255], [['BZERO', -128]]).read();
  assert.ok(i8 instanceof Int8Array);
  assert.deepEqual(Array.from(i8 as Int8Array), [-128, 0, 127]);
});

test('general BSCALE/BZERO give floats: float32 for 8/16-bit and float32 data, float64 for 32/64-bit and float64', () => {
  const a = image(16, [0, 100, -100], [['BSCALE', 0.5], ['BZERO', 10]]).read();
  assert.ok(a instanceof Float32Array);
  assert.deepEqual(Array.from(a as Float32Array), [10, 60, -40]);
  const b = image(32, [1, 2], [['BSCALE', 1e-3], ['BZERO', 1000]]).read();
  assert.ok(b instanceof Float64Array);
  assert.deepEqual(Array.from(b as Float64Array), [1000.001, 1000.002]);
  const c = image(-32, [2, 4], [['BSCALE', 2], ['BZERO', 1]]).read();
  assert.deepEqual(Array.from(c as Float32Array), [5, 9]);
  const d = image(64, [10n, 20n], [['BSCALE', 0.1]]).read();
  assert.ok(d instanceof Float64Array);
  assert.deepEqual(Array.from(d as Float64Array), [1, 2]);
  const e = image(8, [3, 9], [['BSCALE', 2]]).read();
  assert.ok(e instanceof Float32Array);
  assert.deepEqual(Array.from(e as Float32Array), [6, 18]);
});

test('BLANK values become NaN once scaled to floats', () => {
  const a = image(16, [-1, 5], [['BSCALE', 2], ['BLANK', -1]]).read();
  assert.deepEqual(Array.from(a as Float32Array), [NaN, 10]);
});

test('2-D images read by row and by element range without touching the rest', () => {
  const data = Array.from({ length: 12 }, (_, i) => i);
  const img = readFits(imageHdu({ bitpix: -32, shape: [4, 3], data })).hdus[0].image();
  assert.deepEqual(img.shape, [4, 3]);
  assert.deepEqual(Array.from(img.row(2) as Float32Array), [8, 9, 10, 11]);
  assert.deepEqual(Array.from(img.read(5, 2) as Float32Array), [5, 6]);
  assert.throws(() => img.row(3), isCode('fits-format'));
  assert.throws(() => img.read(10, 5), isCode('fits-format'));
});

test('binary tables: L, X, B, I, J, K, E, D, A, vector columns, TSCAL/TZERO and unsigned K', () => {
  const bytes = concat([
    imageHdu({ bitpix: 8, shape: [] }),
    bintableHdu({
      nRows: 2,
      columns: [
        { name: 'FLAG', tform: '1L', values: [true, false] },
        { name: 'BITS', tform: '10X', values: [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0] },
        { name: 'BYTE', tform: 'B', values: [200, 3] },
        { name: 'SHORT', tform: '1I', values: [-5, 7] },
        { name: 'INT', tform: 'J', values: [-70000, 70000] },
        { name: 'TARGETID', tform: 'K', values: [39627866878511337n, -2713437n] },
        { name: 'UID', tform: 'K', values: [-9223372036854775808n, 1n], cards: [['TZERO7', 9223372036854775808n]] },
        { name: 'FLUX', tform: '3E', values: [1, 2, 3, 4, 5, 6] },
        { name: 'WAVE', tform: 'D', values: [3600.0000000005, 9824.000000000524] },
        { name: 'NAME', tform: '6A', values: ['GALAXY', 'QSO'] },
        { name: 'SCALED', tform: 'I', values: [10, 20], cards: [['TSCAL11', 0.5], ['TZERO11', 1]] },
        { name: 'U16', tform: 'I', values: [-32768, 32767], cards: [['TZERO12', 32768]] },
      ],
    }),
  ]);
  const t = readFits(bytes).hdus[1].table();
  assert.equal(t.nRows, 2);
  assert.deepEqual(t.column('FLAG'), [true, false]);
  assert.deepEqual(Array.from(t.column('BITS') as Uint8Array), [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(t.column('BYTE') as Uint8Array), [200, 3]);
  assert.deepEqual(Array.from(t.column('SHORT') as Int16Array), [-5, 7]);
  assert.deepEqual(Array.from(t.column('INT') as Int32Array), [-70000, 70000]);
  const ids = t.column('targetid');
  assert.ok(ids instanceof BigInt64Array);
  assert.deepEqual(Array.from(ids as BigInt64Array, String), ['39627866878511337', '-2713437']);
  const uid = t.column('UID');
  assert.ok(uid instanceof BigUint64Array);
  assert.deepEqual(Array.from(uid as BigUint64Array), [0n, 9223372036854775809n]);
  assert.deepEqual(Array.from(t.column('FLUX') as Float32Array), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(t.column('FLUX', 1, 1) as Float32Array), [4, 5, 6]);
  const wave = t.column('WAVE');
  assert.ok(wave instanceof Float64Array, 'D columns stay float64');
  assert.deepEqual(Array.from(wave as Float64Array), [3600.0000000005, 9824.000000000524]);
  assert.deepEqual(t.column('NAME'), ['GALAXY', 'QSO']);
  assert.deepEqual(Array.from(t.column('SCALED') as Float32Array), [6, 11]);
  assert.deepEqual(Array.from(t.column('U16') as Uint16Array), [0, 65535]);
  assert.equal(t.value('NAME', 1), 'QSO');
  assert.equal(t.value('INT', 0), -70000);
  assert.throws(() => t.column('NOPE'), isCode('fits-format'));
});

test('variable-length (P) columns are listed as unsupported, the rest of the table still reads', () => {
  const bytes = concat([
    imageHdu({ bitpix: 8, shape: [] }),
    bintableHdu({ nRows: 1, columns: [{ name: 'A', tform: 'J', values: [5] }, { name: 'B', tform: 'J', values: [0] }] }),
  ]);
  const text = Buffer.from(bytes).toString('latin1').replace("TFORM2  = 'J       '", "TFORM2  = '1PJ(0)  '").replace("NAXIS1  =                    8", "NAXIS1  =                   12");
  // Rebuild the data so the row is 12 bytes: 4 for A, 8 for the descriptor (n=0, offset=0).
  const head = text.slice(0, text.length - 2880);
  const data = new Uint8Array(2880);
  data[3] = 5;
  const f = readFits(concat([Buffer.from(head, 'latin1'), data]));
  const t = f.hdus[1].table();
  assert.equal(t.find('B')!.unsupported, 'variable-length array in the heap');
  assert.deepEqual(Array.from(t.column('A') as Int32Array), [5]);
  assert.throws(() => t.column('B'), isCode('fits-unsupported'));
});

test('gzip input is detected by its magic bytes; a damaged stream is a gzip error; the size is bounded', () => {
  const plain = imageHdu({ bitpix: -32, shape: [3], data: [1, 2, 3] });
  const gz = gzipSync(plain);
  const f = readFits(gz);
  assert.ok(f.gzipped);
  assert.deepEqual(Array.from(f.hdus[0].image().read() as Float32Array), [1, 2, 3]);
  assert.throws(() => readFits(gz.subarray(0, gz.length - 20)), isCode('gzip'));
  assert.throws(() => readFits(gz, { maxGunzipBytes: 1000 }), isCode('fits-limit'));
});

test('data beyond the end of the bytes is fits-truncated with the HDU and byte offsets', () => {
  const bytes = imageHdu({ bitpix: -32, shape: [10000], data: new Float32Array(10000) });
  assert.throws(() => readFits(bytes.subarray(0, 2880 * 3), { source: 'cut.fits' }), (e: unknown) => {
    assert.ok(e instanceof SpecVetError && e.code === 'fits-truncated');
    assert.match(e.message, /cut\.fits, HDU 0/);
    assert.match(e.message, /byte 2880/);
    return true;
  });
});

test('absurd declared sizes are refused before any allocation', () => {
  const huge = headerBytes([['SIMPLE', true], ['BITPIX', -64], ['NAXIS', 3], ['NAXIS1', 100000000], ['NAXIS2', 100000000], ['NAXIS3', 100000000]]);
  assert.throws(() => readFits(huge), isCode('fits-limit'));
  const lying = headerBytes([['SIMPLE', true], ['BITPIX', -32], ['NAXIS', 2], ['NAXIS1', 100000], ['NAXIS2', 100000]]);
  assert.throws(() => readFits(lying), isCode('fits-truncated'));
});

test('a table whose TFORMs need more bytes than NAXIS1 is fits-format', () => {
  const bytes = concat([imageHdu({ bitpix: 8, shape: [] }), bintableHdu({ nRows: 1, columns: [{ name: 'X', tform: 'J', values: [1] }] })]);
  const text = Buffer.from(bytes).toString('latin1').replace("TFORM1  = 'J       '", "TFORM1  = '9J      '");
  const f = readFits(Buffer.from(text, 'latin1'));
  assert.throws(() => f.hdus[1].table(), (e: unknown) => e instanceof SpecVetError && e.code === 'fits-format' && /NAXIS1/.test(e.message));
});

test('trailing zero padding after the last HDU is tolerated', () => {
  const bytes = concat([imageHdu({ bitpix: 16, shape: [2], data: [1, 2] }), new Uint8Array(2880)]);
  assert.equal(readFits(bytes).hdus.length, 1);
});
