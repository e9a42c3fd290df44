// The plot's pure data layer (webview/series.ts) and the line list with its air↔vacuum
// conversion (src/shared/lines.ts), in plain Node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { airToVacuum, LINE_GROUPS, markerPosition, vacuumToAir } from '../../src/shared/lines';
import { buildPyramid, goodPixels, prepareWindow, sigmaFromIvar, smooth } from '../../webview/series';

describe('air ↔ vacuum (IAU standard, Morton 1991)', () => {
  test('known lines convert to their vacuum wavelengths', () => {
    // Vacuum wavelengths from the NIST/SDSS line lists.
    assert.ok(Math.abs(airToVacuum(6562.8) - 6564.61) < 0.02, `Hα ${airToVacuum(6562.8)}`);
    assert.ok(Math.abs(airToVacuum(4861.33) - 4862.68) < 0.02, `Hβ ${airToVacuum(4861.33)}`);
    assert.ok(Math.abs(airToVacuum(3933.66) - 3934.78) < 0.02, `Ca II K ${airToVacuum(3933.66)}`);
    assert.ok(Math.abs(airToVacuum(8542.09) - 8544.44) < 0.03, `Ca II 8542 ${airToVacuum(8542.09)}`);
  });
  test('round trip is exact to 1e-6 Å over the optical range', () => {
    for (let w = 3000; w <= 11000; w += 137) assert.ok(Math.abs(vacuumToAir(airToVacuum(w)) - w) < 1e-6, `at ${w}`);
  });
  test('below 2000 Å wavelengths are left alone', () => {
    assert.equal(airToVacuum(1500), 1500);
    assert.equal(vacuumToAir(1500), 1500);
  });
});

describe('line markers', () => {
  test('every group the issue names is present, with air wavelengths from the protocol doc', () => {
    const ids = LINE_GROUPS.map((g) => g.id);
    for (const id of ['balmer', 'hei', 'heii', 'caii', 'nai', 'mgb', 'tio', 'vo', 'c2', 'cn', 'zro']) assert.ok(ids.includes(id as never), id);
    const tio = LINE_GROUPS.find((g) => g.id === 'tio')!.lines.map((l) => l.air);
    assert.deepEqual(tio, [4762, 4954, 5167, 5448, 5847, 6159, 6651, 7054, 7589, 8432]);
  });
  test('markers follow the redshift, medium and frame', () => {
    const vac = airToVacuum(6562.8);
    assert.ok(Math.abs(markerPosition(6562.8, { medium: 'vacuum', redshift: 0.1, restFrame: false, observedFrameFeature: false }) - vac * 1.1) < 1e-9);
    assert.ok(Math.abs(markerPosition(6562.8, { medium: 'vacuum', redshift: 0.1, restFrame: true, observedFrameFeature: false }) - vac) < 1e-9);
    assert.equal(markerPosition(6562.8, { medium: 'air', redshift: 0, restFrame: false, observedFrameFeature: false }), 6562.8);
    // Night-sky lines stay put in the observed frame and move in the rest frame.
    const sky = airToVacuum(5577.3);
    assert.ok(Math.abs(markerPosition(5577.3, { medium: 'vacuum', redshift: 0.1, restFrame: false, observedFrameFeature: true }) - sky) < 1e-9);
    assert.ok(Math.abs(markerPosition(5577.3, { medium: 'vacuum', redshift: 0.1, restFrame: true, observedFrameFeature: true }) - sky / 1.1) < 1e-9);
  });
});

function ramp(n: number) {
  const x = new Float64Array(n), flux = new Float32Array(n), ivar = new Float32Array(n).fill(4), mask = new Int32Array(n);
  for (let i = 0; i < n; i++) { x[i] = 4000 + i; flux[i] = 10 + Math.sin(i / 50); }
  return { x, flux, ivar, mask };
}

describe('min/max decimation per pixel column', () => {
  test('a one-pixel spike survives decimation of 1M points into 800 columns', () => {
    const { x, flux, ivar, mask } = ramp(1_000_000);
    flux[654_321] = 500;
    flux[123_456] = -300;
    const good = goodPixels(flux, ivar, mask);
    const w = prepareWindow({ x, flux, sigma: sigmaFromIvar(ivar), sky: null, good }, x[0], x[x.length - 1], 800);
    assert.equal(w.decimated, true);
    assert.equal(w.x.length, 1600);
    assert.ok(w.flux.includes(500) && w.flux.includes(-300), 'extremes kept');
    assert.equal(w.yMax, 500);
    assert.equal(w.yMin, -300);
    assert.ok(w.upper!.some((v) => v === 500.5), 'error band keeps the spike ± σ');
  });
  test('masked pixels are drawn apart and kept out of autoscaling', () => {
    const { x, flux, ivar, mask } = ramp(100_000);
    flux[50_000] = 1e6;
    mask[50_000] = 4;
    flux[60_000] = -1e6;
    ivar[60_000] = 0; // no information: treated as bad too
    const good = goodPixels(flux, ivar, mask);
    for (const cols of [800, 100_000]) {
      const w = prepareWindow({ x, flux, sigma: null, sky: null, good }, x[0], x[x.length - 1], cols);
      assert.ok(w.yMax! < 12 && w.yMin! > 8, `autoscale ignores bad pixels (${w.yMin}..${w.yMax}, ${cols} columns)`);
      assert.ok(w.masked.includes(1e6) && w.masked.includes(-1e6), 'bad pixels still drawn');
      assert.ok(!w.flux.includes(1e6), 'not on the flux line');
    }
  });
  test('the block pyramid gives the same extremes as the full scan, for any window', () => {
    const { x, flux, ivar, mask } = ramp(1_000_000);
    for (let k = 0; k < 200; k++) flux[(k * 48_271) % 1_000_000] = 10 + ((k * 7919) % 400) - 200;
    for (let k = 0; k < 50; k++) mask[(k * 69_621) % 1_000_000] = 2;
    const good = goodPixels(flux, ivar, mask);
    const sigma = sigmaFromIvar(ivar);
    const pyramid = buildPyramid({ flux, sigma, sky: flux, good });
    assert.ok(pyramid && pyramid.levels[0].block === 8);
    for (const [a, b] of [[x[0], x[999_999]], [4100, 904_100], [250_000.5, 400_000.25], [700_000, 710_000]]) {
      const direct = prepareWindow({ x, flux, sigma, sky: flux, good }, a, b, 900);
      const fast = prepareWindow({ x, flux, sigma, sky: flux, good, pyramid }, a, b, 900);
      assert.equal(fast.x.length, direct.x.length);
      assert.equal(fast.yMax, direct.yMax, `yMax in ${a}..${b}`);
      assert.equal(fast.yMin, direct.yMin, `yMin in ${a}..${b}`);
      const sorted = (v: (number | null)[]) => v.filter((y): y is number => y !== null).sort((p, q) => p - q);
      // Column edges snap to blocks, so a value may land one column over; the set of extremes is the same.
      const dMasked = sorted(direct.masked), fMasked = sorted(fast.masked);
      assert.deepEqual(fMasked.filter((v) => v > 100 || v < -100), dMasked.filter((v) => v > 100 || v < -100), 'masked spikes kept');
      assert.equal(Math.max(...sorted(fast.upper!)), Math.max(...sorted(direct.upper!)));
      assert.equal(Math.max(...sorted(fast.sky!)), Math.max(...sorted(direct.sky!)));
    }
  });
  test('few points in the window are passed through unchanged', () => {
    const { x, flux, ivar, mask } = ramp(5000);
    const good = goodPixels(flux, ivar, mask);
    const w = prepareWindow({ x, flux, sigma: null, sky: flux, good }, 4100.5, 4199.5, 800);
    assert.equal(w.decimated, false);
    assert.equal(w.x[0], 4100, 'one pixel beyond the left edge, so the line reaches the frame');
    assert.equal(w.x[w.x.length - 1], 4200, 'and beyond the right edge');
    assert.equal(w.flux[1], flux[101]);
    assert.equal(w.sky![1], flux[101]);
  });
});

describe('smoothing', () => {
  test('boxcar and gaussian keep a constant, reduce noise, and propagate the error', () => {
    const n = 20_000;
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const flux = new Float32Array(n), ivar = new Float32Array(n).fill(1);
    for (let i = 0; i < n; i++) flux[i] = 5 + (rand() - 0.5) * Math.sqrt(12); // σ = 1
    const good = goodPixels(flux, ivar, null);
    const sig = sigmaFromIvar(ivar);
    const std = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m += a[i]; m /= a.length; let v = 0; for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2; return Math.sqrt(v / a.length); };
    const box = smooth(flux, sig, good, { kind: 'boxcar', width: 9 });
    assert.ok(Math.abs(std(box.values) - 1 / 3) < 0.03, `boxcar 9 noise ${std(box.values)}`);
    assert.ok(Math.abs(box.sigma![n / 2] - 1 / 3) < 1e-9, 'σ/√9');
    const g = smooth(flux, sig, good, { kind: 'gaussian', width: 2 });
    assert.ok(std(g.values) < 0.45, `gaussian σ2 noise ${std(g.values)}`);
    const flat = smooth(new Float32Array(100).fill(7), null, new Uint8Array(100).fill(1), { kind: 'gaussian', width: 3 });
    assert.ok(flat.values.every((v) => Math.abs(v - 7) < 1e-12));
    const none = smooth(flux, sig, good, { kind: 'none', width: 5 });
    assert.deepEqual(Array.from(none.values.subarray(0, 5)), Array.from(flux.subarray(0, 5)));
  });
  test('masked pixels do not leak into their neighbours', () => {
    const flux = new Float32Array(21).fill(1);
    const mask = new Int32Array(21);
    flux[10] = 1000;
    mask[10] = 1;
    const s = smooth(flux, null, goodPixels(flux, null, mask), { kind: 'boxcar', width: 5 });
    assert.equal(s.values[9], 1);
    assert.equal(s.values[11], 1);
    assert.equal(s.values[10], 1000, 'the masked pixel keeps its raw value (drawn as masked)');
  });
});
