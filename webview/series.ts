// Pure data preparation for the plot: smoothing, error from inverse variance, and min/max
// decimation per pixel column. Kept free of DOM and uPlot so it can be measured and tested alone.
//
// Why decimate: a canvas path with 1M vertices costs ~30–60 ms to stroke. A column of the plot
// only ever shows a vertical extent, so per pixel column we keep the first/last x and the min and
// max of each series (2 points per column). The drawn picture is identical to the full-resolution
// one, and a redraw touches ~2×width points whatever the spectrum length.

export type SmoothingKind = 'none' | 'boxcar' | 'gaussian';

export interface Smoothing {
  kind: SmoothingKind;
  /** Boxcar: full width in pixels (odd). Gaussian: sigma in pixels. */
  width: number;
}

export const SMOOTHING_LIMITS = { boxcar: { min: 3, max: 51, step: 2 }, gaussian: { min: 1, max: 20, step: 1 } } as const;

export function describeSmoothing(s: Smoothing): string {
  if (s.kind === 'none') return 'unsmoothed';
  return s.kind === 'boxcar' ? `boxcar ${s.width} px` : `gaussian σ ${s.width} px`;
}

/** A pixel counts (for smoothing and autoscaling) when finite, unmasked and with information (ivar > 0 when known). */
export function goodPixels(flux: Float32Array, ivar: Float32Array | null, mask: Int32Array | null): Uint8Array {
  const good = new Uint8Array(flux.length);
  for (let i = 0; i < flux.length; i++) {
    good[i] = Number.isFinite(flux[i]) && (!mask || mask[i] === 0) && (!ivar || ivar[i] > 0) ? 1 : 0;
  }
  return good;
}

/** 1σ flux error from inverse variance; NaN where ivar ≤ 0 (no information). */
export function sigmaFromIvar(ivar: Float32Array): Float64Array {
  const out = new Float64Array(ivar.length);
  for (let i = 0; i < ivar.length; i++) out[i] = ivar[i] > 0 ? 1 / Math.sqrt(ivar[i]) : NaN;
  return out;
}

function kernelFor(s: Smoothing): Float64Array {
  if (s.kind === 'boxcar') return new Float64Array(Math.max(1, s.width | 1)).fill(1);
  const half = Math.ceil(3 * s.width);
  const k = new Float64Array(2 * half + 1);
  for (let j = -half; j <= half; j++) k[j + half] = Math.exp(-0.5 * (j / s.width) ** 2);
  return k;
}

/**
 * Smooth `values` with the kernel, using only good pixels (weights renormalised), and propagate
 * the error: var = Σ w²σ² / (Σ w)². Bad pixels keep their raw value (they are drawn as masked).
 */
export function smooth(
  values: ArrayLike<number>,
  sigma: Float64Array | null,
  good: Uint8Array,
  s: Smoothing,
): { values: Float64Array; sigma: Float64Array | null } {
  const n = values.length;
  const out = new Float64Array(n);
  const outSigma = sigma ? new Float64Array(n) : null;
  if (s.kind === 'none') {
    for (let i = 0; i < n; i++) out[i] = values[i];
    if (sigma && outSigma) outSigma.set(sigma);
    return { values: out, sigma: outSigma };
  }
  const k = kernelFor(s);
  const half = (k.length - 1) >> 1;
  for (let i = 0; i < n; i++) {
    if (!good[i]) {
      out[i] = values[i];
      if (outSigma && sigma) outSigma[i] = sigma[i];
      continue;
    }
    let sw = 0, swv = 0, sw2v = 0;
    const lo = Math.max(0, i - half), hi = Math.min(n - 1, i + half);
    for (let j = lo; j <= hi; j++) {
      if (!good[j]) continue;
      const w = k[j - i + half];
      sw += w;
      swv += w * values[j];
      if (sigma) { const e = sigma[j]; sw2v += Number.isFinite(e) ? w * w * e * e : 0; }
    }
    out[i] = swv / sw;
    if (outSigma) outSigma[i] = Math.sqrt(sw2v) / sw;
  }
  return { values: out, sigma: outSigma };
}

/** First index with xs[i] >= x (xs ascending). */
export function lowerBound(xs: ArrayLike<number>, x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

export interface SeriesInput {
  x: ArrayLike<number>;
  flux: ArrayLike<number>;
  /** 1σ error (NaN = none), or null to skip the band. */
  sigma: ArrayLike<number> | null;
  sky: ArrayLike<number> | null;
  good: Uint8Array;
  /** Precomputed block min/max (see buildPyramid): wide windows of long spectra then cost O(columns), not O(pixels). */
  pyramid?: MinMaxPyramid | null;
}

/** One level of block extremes: block `b` covers pixels [b·block, (b+1)·block). ±Infinity = nothing in the block. */
export interface PyramidLevel {
  block: number;
  fMin: Float32Array; fMax: Float32Array;
  mMin: Float32Array; mMax: Float32Array;
  uMax: Float32Array | null; lMin: Float32Array | null;
  sMin: Float32Array | null; sMax: Float32Array | null;
}

/** Min/max of every series over blocks of 8, 16, 32... pixels, built once per spectrum (and smoothing). */
export interface MinMaxPyramid {
  n: number;
  levels: PyramidLevel[];
}

export const PYRAMID_BASE = 8;
/** Below this many pixels the direct scan is already fast; no pyramid is built. */
export const PYRAMID_MIN_PIXELS = 50_000;

function emptyLevel(block: number, nb: number, hasSigma: boolean, hasSky: boolean): PyramidLevel {
  const lo = () => new Float32Array(nb).fill(Infinity), hi = () => new Float32Array(nb).fill(-Infinity);
  return {
    block, fMin: lo(), fMax: hi(), mMin: lo(), mMax: hi(),
    uMax: hasSigma ? hi() : null, lMin: hasSigma ? lo() : null,
    sMin: hasSky ? lo() : null, sMax: hasSky ? hi() : null,
  };
}

/** O(n) build; about n/4 floats of memory per series. Null for short spectra. */
export function buildPyramid(input: Pick<SeriesInput, 'flux' | 'sigma' | 'sky' | 'good'>): MinMaxPyramid | null {
  const { flux, sigma, sky, good } = input;
  const n = flux.length;
  if (n < PYRAMID_MIN_PIXELS) return null;
  const levels: PyramidLevel[] = [];
  let prev = emptyLevel(PYRAMID_BASE, Math.ceil(n / PYRAMID_BASE), !!sigma, !!sky);
  for (let i = 0; i < n; i++) {
    const b = (i / PYRAMID_BASE) | 0;
    const v = flux[i];
    if (good[i] === 1) {
      if (v < prev.fMin[b]) prev.fMin[b] = v;
      if (v > prev.fMax[b]) prev.fMax[b] = v;
      if (sigma) {
        const e = sigma[i];
        if (Number.isFinite(e)) { if (v + e > prev.uMax![b]) prev.uMax![b] = v + e; if (v - e < prev.lMin![b]) prev.lMin![b] = v - e; }
      }
    } else if (Number.isFinite(v)) {
      if (v < prev.mMin[b]) prev.mMin[b] = v;
      if (v > prev.mMax[b]) prev.mMax[b] = v;
    }
    if (sky) { const sv = sky[i]; if (sv < prev.sMin![b]) prev.sMin![b] = sv; if (sv > prev.sMax![b]) prev.sMax![b] = sv; }
  }
  levels.push(prev);
  while (prev.fMin.length > 2) {
    const nb = Math.ceil(prev.fMin.length / 2);
    const next = emptyLevel(prev.block * 2, nb, !!sigma, !!sky);
    for (let b = 0; b < nb; b++) {
      const a = 2 * b, c = Math.min(2 * b + 1, prev.fMin.length - 1);
      next.fMin[b] = Math.min(prev.fMin[a], prev.fMin[c]);
      next.fMax[b] = Math.max(prev.fMax[a], prev.fMax[c]);
      next.mMin[b] = Math.min(prev.mMin[a], prev.mMin[c]);
      next.mMax[b] = Math.max(prev.mMax[a], prev.mMax[c]);
      if (next.uMax && prev.uMax) next.uMax[b] = Math.max(prev.uMax[a], prev.uMax[c]);
      if (next.lMin && prev.lMin) next.lMin[b] = Math.min(prev.lMin[a], prev.lMin[c]);
      if (next.sMin && prev.sMin) next.sMin[b] = Math.min(prev.sMin[a], prev.sMin[c]);
      if (next.sMax && prev.sMax) next.sMax[b] = Math.max(prev.sMax[a], prev.sMax[c]);
    }
    levels.push(next);
    prev = next;
  }
  return { n, levels };
}

/** Output arrays for `points` points (error band and sky only where drawn); no y extent yet. */
function emptySeries(points: number, withSigma: boolean, withSky: boolean, pixelsInWindow: number, decimated: boolean): PlotSeries {
  const nulls = () => new Array<number | null>(points);
  return { x: new Float64Array(points), flux: nulls(), upper: withSigma ? nulls() : null, lower: withSigma ? nulls() : null, sky: withSky ? nulls() : null, masked: nulls(), yMin: null, yMax: null, pixelsInWindow, decimated };
}

/** The series with the y extent of its good flux (none when nothing was good: yMin > yMax). */
function withYRange(s: PlotSeries, yMin: number, yMax: number): PlotSeries {
  if (yMin <= yMax) {
    s.yMin = yMin;
    s.yMax = yMax;
  }
  return s;
}

/**
 * Decimate from the pyramid level whose blocks are at most 1/8 of a column: column edges snap to
 * block edges (an error under 1/16 of a pixel column), and each column reads 8–16 blocks.
 */
function prepareFromPyramid(input: SeriesInput, level: PyramidLevel, i0: number, i1: number, xMin: number, xMax: number, cols: number): PlotSeries {
  const { x } = input;
  const B = level.block, nb = level.fMin.length;
  const wantSigma = !!input.sigma && !!level.uMax, wantSky = !!input.sky && !!level.sMin;
  const out = emptySeries(2 * cols, wantSigma, wantSky, i1 - i0, true);
  const { x: xs, flux: f, masked: m, upper: up, lower: lo, sky: sk } = out;
  const span = xMax - xMin;
  let yMin = Infinity, yMax = -Infinity;
  let prevLast = NaN;
  let bs = Math.max(0, Math.round(i0 / B));
  for (let c = 0; c < cols; c++) {
    const edge = c === cols - 1 ? i1 : Math.min(i1, Math.max(i0, lowerBound(x, xMin + (span * (c + 1)) / cols)));
    const be = c === cols - 1 ? Math.min(nb, Math.ceil(i1 / B)) : Math.min(nb, Math.max(bs, Math.round(edge / B)));
    let fMin = Infinity, fMax = -Infinity, mMin = Infinity, mMax = -Infinity, uMax = -Infinity, lMin = Infinity, sMin = Infinity, sMax = -Infinity;
    for (let b = bs; b < be; b++) {
      if (level.fMin[b] < fMin) fMin = level.fMin[b];
      if (level.fMax[b] > fMax) fMax = level.fMax[b];
      if (level.mMin[b] < mMin) mMin = level.mMin[b];
      if (level.mMax[b] > mMax) mMax = level.mMax[b];
      if (wantSigma) { if (level.uMax![b] > uMax) uMax = level.uMax![b]; if (level.lMin![b] < lMin) lMin = level.lMin![b]; }
      if (wantSky) { if (level.sMin![b] < sMin) sMin = level.sMin![b]; if (level.sMax![b] > sMax) sMax = level.sMax![b]; }
    }
    const a = 2 * c, b2 = a + 1;
    const first = Math.min(bs * B, x.length - 1), last = Math.min(Math.max(be * B, bs * B + 1), x.length) - 1;
    xs[a] = x[first];
    xs[b2] = x[Math.max(first, last)];
    if (fMin <= fMax) {
      // Order the pair so the line continues from the previous column's end (no zig-zag artefacts).
      const maxFirst = Number.isFinite(prevLast) && Math.abs(prevLast - fMax) < Math.abs(prevLast - fMin);
      f[a] = maxFirst ? fMax : fMin;
      f[b2] = maxFirst ? fMin : fMax;
      prevLast = f[b2]!;
      if (fMin < yMin) yMin = fMin;
      if (fMax > yMax) yMax = fMax;
    } else { f[a] = null; f[b2] = null; }
    m[a] = mMin <= mMax ? mMin : null; m[b2] = mMin <= mMax ? mMax : null;
    if (up && lo) { const has = uMax >= lMin; up[a] = up[b2] = has ? uMax : null; lo[a] = lo[b2] = has ? lMin : null; }
    if (sk) { const has = sMin <= sMax; sk[a] = has ? sMin : null; sk[b2] = has ? sMax : null; }
    bs = be;
  }
  return withYRange(out, yMin, yMax);
}

/** Plot-ready arrays for one x window: null marks a gap. */
export interface PlotSeries {
  x: Float64Array;
  flux: (number | null)[];
  upper: (number | null)[] | null;
  lower: (number | null)[] | null;
  sky: (number | null)[] | null;
  /** Flux at bad (masked / no-information) pixels only, null elsewhere. */
  masked: (number | null)[];
  /** Y extent of good flux in the window (autoscaling ignores masked pixels), null if none. */
  yMin: number | null;
  yMax: number | null;
  /** Pixels of the spectrum inside the window, and points produced. */
  pixelsInWindow: number;
  decimated: boolean;
}

/**
 * The arrays to draw for x in [xMin, xMax] on a plot `columns` pixels wide: every pixel when they
 * fit (≤ 2 per column), else min/max per pixel column. One pixel beyond each edge is kept so lines
 * run to the frame.
 */
export function prepareWindow(input: SeriesInput, xMin: number, xMax: number, columns: number): PlotSeries {
  const { x, flux, sigma, sky, good } = input;
  const n = x.length;
  const i0 = Math.max(0, lowerBound(x, xMin) - 1);
  const i1 = Math.min(n, lowerBound(x, xMax) + 1);
  const count = Math.max(0, i1 - i0);
  const cols = Math.max(1, Math.floor(columns));
  let yMin = Infinity, yMax = -Infinity;

  if (count <= 2 * cols) {
    const out = emptySeries(count, !!sigma, !!sky, count, false);
    const { x: xs, flux: f, masked: m, upper: up, lower: lo, sky: sk } = out;
    for (let k = 0; k < count; k++) {
      const i = i0 + k;
      xs[k] = x[i];
      const v = flux[i];
      const ok = good[i] === 1;
      const finite = Number.isFinite(v);
      f[k] = ok ? v : null;
      m[k] = !ok && finite ? v : null;
      if (ok && x[i] >= xMin && x[i] <= xMax) { if (v < yMin) yMin = v; if (v > yMax) yMax = v; }
      if (up && lo && sigma) {
        const e = sigma[i];
        const has = ok && Number.isFinite(e);
        up[k] = has ? v + e : null;
        lo[k] = has ? v - e : null;
      }
      if (sk && sky) sk[k] = Number.isFinite(sky[i]) ? sky[i] : null;
    }
    return withYRange(out, yMin, yMax);
  }

  const perColumn = count / cols;
  if (input.pyramid && input.pyramid.n === n) {
    let level: PyramidLevel | null = null;
    for (const l of input.pyramid.levels) if (l.block * 8 <= perColumn) level = l;
    if (level) return prepareFromPyramid(input, level, i0, i1, xMin, xMax, cols);
  }

  // Decimate: column c covers pixels [start_c, start_{c+1}) in index space (x is near-uniform per pixel).
  const out = emptySeries(2 * cols, !!sigma, !!sky, count, true);
  const { x: xs, flux: f, masked: m, upper: up, lower: lo, sky: sk } = out;
  const span = xMax - xMin;
  let i = i0;
  for (let c = 0; c < cols; c++) {
    const colEnd = c === cols - 1 ? Infinity : xMin + (span * (c + 1)) / cols;
    const start = i;
    let fMin = Infinity, fMax = -Infinity, iMin = -1, iMax = -1;
    let mMin = Infinity, mMax = -Infinity;
    let uMax = -Infinity, lMin = Infinity;
    let sMin = Infinity, sMax = -Infinity;
    while (i < i1 && (x[i] < colEnd || c === cols - 1)) {
      const v = flux[i];
      if (good[i] === 1) {
        if (v < fMin) { fMin = v; iMin = i; }
        if (v > fMax) { fMax = v; iMax = i; }
        if (sigma) {
          const e = sigma[i];
          if (Number.isFinite(e)) { if (v + e > uMax) uMax = v + e; if (v - e < lMin) lMin = v - e; }
        }
      } else if (Number.isFinite(v)) {
        if (v < mMin) mMin = v;
        if (v > mMax) mMax = v;
      }
      if (sky) { const s = sky[i]; if (s < sMin) sMin = s; if (s > sMax) sMax = s; }
      i++;
    }
    const a = 2 * c, b = a + 1;
    if (i > start) { xs[a] = x[start]; xs[b] = x[i - 1] > x[start] ? x[i - 1] : x[start]; }
    else { xs[a] = xMin + (span * c) / cols; xs[b] = xs[a]; }
    if (iMin >= 0) {
      // Keep the order of occurrence so the line's shape inside the column is right.
      const first = iMin <= iMax ? fMin : fMax, second = iMin <= iMax ? fMax : fMin;
      f[a] = first; f[b] = second;
      if (fMin < yMin) yMin = fMin;
      if (fMax > yMax) yMax = fMax;
    } else { f[a] = null; f[b] = null; }
    m[a] = mMin <= mMax ? mMin : null; m[b] = mMin <= mMax ? mMax : null;
    if (up && lo) {
      const has = uMax >= lMin;
      up[a] = up[b] = has ? uMax : null;
      lo[a] = lo[b] = has ? lMin : null;
    }
    if (sk) { const has = sMin <= sMax; sk[a] = has ? sMin : null; sk[b] = has ? sMax : null; }
  }
  return withYRange(out, yMin, yMax);
}
