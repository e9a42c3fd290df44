// The Agg ports the renderer paints with, on their own: the closed-form rectangle against the cell
// sweep it stands for, clipping, the stroker's polygon, and the PNG the canvas becomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggRasterizer, Canvas, strokePath } from '../../src/core/render/raster';
import { encodeScanlines, upFiltered } from '../../src/core/render/png';
import { decodePng } from '../support/image-compare';
import { prng } from '../support/random';

function pixelsOf(c: Canvas): number[] {
  const out: number[] = [];
  for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width * 3; x++) out.push(c.rows[y * c.stride + 1 + x]);
  return out;
}

test('an axis-aligned rectangle blends exactly as the rasteriser sweeps it, at any subpixel position, colour and alpha', () => {
  const rand = prng(7);
  for (let i = 0; i < 300; i++) {
    const x0 = rand() * 30 - 5;
    const y0 = rand() * 30 - 5;
    const x1 = x0 + rand() * 12;
    const y1 = y0 + rand() * 12;
    const gray = Math.floor(rand() * 256);
    const alpha = [1, 0.8, 0.3, 0.1][i % 4];
    const closed = new Canvas(24, 20);
    const swept = new Canvas(24, 20);
    // a gray underlay so the blend is tested over more than white
    for (const c of [closed, swept]) c.fillRect(3, 3, 15, 9, 120, 120, 120, 0.5);
    closed.fillRect(x0, y0, x1, y1, gray, gray, gray, alpha);
    const ras = new AggRasterizer(24, 20);
    // the orientation of matplotlib's stroke outline for a grid line
    ras.moveTo(x0, y1);
    ras.lineTo(x1, y1);
    ras.lineTo(x1, y0);
    ras.lineTo(x0, y0);
    ras.fill(swept, gray, gray, gray, alpha);
    assert.deepEqual(pixelsOf(closed), pixelsOf(swept), `rect ${[x0, y0, x1, y1].map((v) => v.toFixed(3))} gray ${gray} alpha ${alpha}`);
  }
});

test('the clip box cuts a stroke exactly at whole pixels and nothing outside it changes', () => {
  const c = new Canvas(40, 30);
  const ras = new AggRasterizer(40, 30);
  ras.clipBox(10, 5, 30, 25);
  strokePath(ras, [0, 0, 39.5, 29.5, 0, 29.5], false, { width: 3, join: 'round', cap: 'square', miterLimit: 3 });
  ras.fill(c, 0, 0, 255, 0.8);
  let inside = 0;
  for (let y = 0; y < 30; y++) {
    for (let x = 0; x < 40; x++) {
      const p = y * c.stride + 1 + x * 3;
      const painted = c.rows[p] !== 255 || c.rows[p + 1] !== 255 || c.rows[p + 2] !== 255;
      if (x < 10 || x >= 30 || y < 5 || y >= 25) assert.ok(!painted, `pixel ${x},${y} outside the clip box`);
      else if (painted) inside++;
    }
  }
  assert.ok(inside > 40, `the stroke shows inside the box (${inside} px)`);
});

test('a round-joined stroke covers its full width along the path and the square caps extend it by half the width', () => {
  const c = new Canvas(30, 20);
  const ras = new AggRasterizer(30, 20);
  // a horizontal 4-px line from x 5 to 25 at y 10: projecting caps reach x 3 and x 27
  strokePath(ras, [5, 10, 25, 10], false, { width: 4, join: 'round', cap: 'square', miterLimit: 4 });
  ras.fill(c, 0, 0, 0, 1);
  const at = (x: number, y: number) => c.rows[y * c.stride + 1 + x * 3];
  for (let x = 3; x < 27; x++) for (let y = 8; y < 12; y++) assert.equal(at(x, y), 0, `inside ${x},${y}`);
  for (let x = 0; x < 30; x++) for (const y of [7, 12]) assert.equal(at(x, y), 255, `outside ${x},${y}`);
  assert.equal(at(2, 10), 255);
  assert.equal(at(27, 10), 255);
});

test('the canvas is PNG scanlines: encoded as they are, an opaque RGB image decodes to the same pixels', () => {
  const c = new Canvas(17, 9);
  c.fillRect(2.3, 1.6, 11.2, 7.9, 0, 0, 255, 0.8);
  for (const useSimd of [true, false]) {
    const png = decodePng(encodeScanlines(c.rows, 17, 9, useSimd));
    assert.equal(png.width, 17);
    assert.equal(png.height, 9);
    assert.deepEqual([...png.rgb], pixelsOf(c), `useSimd ${useSimd}`);
  }
  assert.throws(() => encodeScanlines(c.rows.subarray(1), 17, 9), /not 17×9 RGB/);
});

test('the SIMD Up filter equals the PNG definition byte for byte, at every width and height', () => {
  // widths give row lengths on each side of the 16-byte blocks; height 1 has no row above
  for (const [width, height] of [[1, 1], [1, 7], [5, 3], [16, 2], [17, 9], [21, 4], [792, 472]]) {
    const stride = width * 3 + 1;
    const raw = new Uint8Array(stride * height);
    let seed = width * 7919 + height;
    for (let i = 0; i < raw.length; i++) raw[i] = i % stride === 0 ? 0 : (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const expected = new Uint8Array(raw.length);
    for (let y = 0; y < height; y++) {
      expected[y * stride] = y === 0 ? 0 : 2;
      for (let i = 1; i < stride; i++) {
        const p = y * stride + i;
        expected[p] = y === 0 ? raw[p] : (raw[p] - raw[p - stride]) & 255;
      }
    }
    const before = Uint8Array.from(raw);
    const filtered = upFiltered(raw, stride, height);
    assert.ok(filtered, 'WebAssembly SIMD is available in Node 20');
    assert.deepEqual(Buffer.from(filtered), Buffer.from(expected), `${width}×${height}`);
    assert.deepEqual(raw, before, 'the canvas itself is left as it was');
    // and a PNG decoder reads it back to the same pixels
    const png = decodePng(encodeScanlines(raw, width, height));
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) rgb.set(raw.subarray(y * stride + 1, (y + 1) * stride), y * width * 3);
    assert.deepEqual(Buffer.from(png.rgb), Buffer.from(rgb), `decoded ${width}×${height}`);
  }
});
