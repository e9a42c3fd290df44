// Multi-arm spectra (DESI b/r/z, LAMOST MRS B/R) combined into one: the union of the arms'
// wavelength grids, with the inverse-variance weighted mean where arms overlap. Pixels flagged by
// their mask or with ivar 0 carry no weight; where no arm has weight the plain mean is shown with
// ivar 0 and the OR of the masks, so a plot never loses pixels the file has.
import { SpecVetError } from '../errors';
import type { SpectrumArm } from './model';

export interface CombinedSpectrum {
  wavelength: Float64Array;
  flux: Float32Array;
  ivar: Float32Array;
  mask: Int32Array | null;
}

/** Relative tolerance under which two arms' wavelengths are the same pixel (DESI grids agree to ~1e-12). */
const SAME_PIXEL = 1e-7;

/** The union grid of ascending arm grids, and for each arm the union index of each of its pixels. */
export function unionGrid(grids: Float64Array[], where: string): { grid: Float64Array; maps: Int32Array[] } {
  for (let a = 0; a < grids.length; a++) {
    const g = grids[a];
    for (let i = 1; i < g.length; i++) {
      if (!(g[i] > g[i - 1])) throw new SpecVetError('spectrum-format', `wavelengths of arm ${a} are not strictly ascending at pixel ${i}`, where);
    }
  }
  // k-way merge by repeated two-pointer passes (there are 2–3 arms).
  let grid: Float64Array = new Float64Array(0);
  for (const g of grids) grid = mergeTwo(grid, g);
  const maps = grids.map((g) => {
    const map = new Int32Array(g.length);
    let j = 0;
    for (let i = 0; i < g.length; i++) {
      while (j < grid.length - 1 && grid[j] < g[i] && !same(grid[j], g[i])) j++;
      map[i] = j;
    }
    return map;
  });
  return { grid, maps };
}

function same(a: number, b: number): boolean {
  return Math.abs(a - b) <= SAME_PIXEL * Math.abs(a);
}

function mergeTwo(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j] && !same(a[i], b[j]))) out[n++] = a[i++];
    else if (i >= a.length || (b[j] < a[i] && !same(a[i], b[j]))) out[n++] = b[j++];
    else {
      out[n++] = a[i++];
      j++;
    }
  }
  return out.slice(0, n);
}

export function combineArms(arms: SpectrumArm[], where: string, union?: { grid: Float64Array; maps: Int32Array[] }): CombinedSpectrum {
  if (!arms.length) throw new SpecVetError('spectrum-format', 'no spectrograph arms to combine', where);
  const { grid, maps } = union ?? unionGrid(arms.map((a) => a.wavelength), where);
  const n = grid.length;
  const sumW = new Float64Array(n);
  const sumWF = new Float64Array(n);
  const sumF = new Float64Array(n);
  const count = new Uint8Array(n);
  const anyMask = arms.some((a) => a.mask);
  const maskOr = anyMask ? new Int32Array(n) : null;
  for (let a = 0; a < arms.length; a++) {
    const arm = arms[a];
    const map = maps[a];
    const len = Math.min(arm.flux.length, arm.ivar.length, map.length);
    for (let i = 0; i < len; i++) {
      const k = map[i];
      const f = arm.flux[i];
      const m = arm.mask ? arm.mask[i] : 0;
      const w = arm.ivar[i];
      if (Number.isFinite(f)) {
        sumF[k] += f;
        count[k]++;
        if (m === 0 && w > 0 && Number.isFinite(w)) {
          sumW[k] += w;
          sumWF[k] += w * f;
        }
      }
      if (maskOr) maskOr[k] |= m;
    }
  }
  const flux = new Float32Array(n);
  const ivar = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    if (sumW[k] > 0) {
      flux[k] = sumWF[k] / sumW[k];
      ivar[k] = sumW[k];
      if (maskOr) maskOr[k] = 0;
    } else {
      flux[k] = count[k] ? sumF[k] / count[k] : NaN;
    }
  }
  return { wavelength: grid, flux, ivar, mask: maskOr };
}
