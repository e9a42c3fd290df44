// The two path converters of matplotlib's Agg backend (src/path_converters.h) that change what a
// spectrum line looks like: PathSnapper (rectilinear paths to pixel centres or edges) and
// PathSimplifier (merges runs of nearly collinear segments, within 1/9 px, keeping the extremes
// in both directions). matplotlib simplifies every line of 128+ vertices, so doing the same here is
// both faithful and what keeps a million-point spectrum fast.
import { blendChannel, iround } from './raster';

/** A polyline's vertices, x and y interleaved (device pixels). */
export type Polyline = Float64Array;

/** PathSnapper in SNAP_AUTO mode; widthPx is the stroke width in pixels. Returns the input when not snapped. */
export function snapPath(xy: Polyline, widthPx: number): Polyline {
  const n = xy.length >> 1;
  if (n > 1024) return xy;
  for (let i = 1; i < n; i++) {
    if (Math.abs(xy[2 * i - 2] - xy[2 * i]) >= 1e-4 && Math.abs(xy[2 * i - 1] - xy[2 * i + 1]) >= 1e-4) return xy;
  }
  const s = Math.floor(widthPx + 0.5) % 2 ? 0.5 : 0;
  return xy.map((v) => Math.floor(v + 0.5) + s);
}

/** rcParams['path.simplify_threshold'] */
const SIMPLIFY_THRESHOLD = 1 / 9;

/** Path.should_simplify for a plain polyline. */
export function shouldSimplify(n: number): boolean {
  return n >= 128;
}

/**
 * PathSimplifier over one polyline (a single MOVETO then LINETOs), returning the vertices Agg
 * would stroke. A port of the state machine, queue included, so the emitted order is the same.
 */
export function simplifyPath(xy: Polyline): Polyline {
  const nIn = xy.length >> 1;
  // at most 3 vertices out per vertex in, plus the flush
  const out = new Float64Array(2 * (3 * nIn + 3));
  let m = 0;
  const emit = (x: number, y: number): void => {
    out[m++] = x;
    out[m++] = y;
  };
  if (nIn === 0) return out.subarray(0, 0);
  const thresh2 = SIMPLIFY_THRESHOLD * SIMPLIFY_THRESHOLD;
  let lastx = xy[0];
  let lasty = xy[1];
  let origdx = 0;
  let origdy = 0;
  let origdNorm2 = 0;
  let fwdMax = 0;
  let bwdMax = 0;
  let lastFwdMax = false;
  let lastBwdMax = false;
  let nextX = 0;
  let nextY = 0;
  let nextBX = 0;
  let nextBY = 0;
  let startX = 0;
  let startY = 0;
  let clipped = true; // set by the initial MOVETO

  const push = (x: number, y: number): void => {
    if (bwdMax > 0) {
      if (lastFwdMax) {
        emit(nextBX, nextBY);
        emit(nextX, nextY);
      } else {
        emit(nextX, nextY);
        emit(nextBX, nextBY);
      }
    } else {
      emit(nextX, nextY);
    }
    if (clipped) emit(lastx, lasty);
    else if (!lastFwdMax && !lastBwdMax) emit(lastx, lasty);
    origdx = x - lastx;
    origdy = y - lasty;
    origdNorm2 = origdx * origdx + origdy * origdy;
    fwdMax = origdNorm2;
    lastFwdMax = true;
    startX = out[m - 2];
    startY = out[m - 1];
    lastx = nextX = x;
    lasty = nextY = y;
    bwdMax = 0;
    lastBwdMax = false;
    clipped = false;
  };

  for (let i = 1; i < nIn; i++) {
    const x = xy[2 * i];
    const y = xy[2 * i + 1];
    if (origdNorm2 === 0) {
      if (clipped) {
        emit(lastx, lasty); // the MOVETO
        clipped = false;
      }
      origdx = x - lastx;
      origdy = y - lasty;
      origdNorm2 = origdx * origdx + origdy * origdy;
      fwdMax = origdNorm2;
      bwdMax = 0;
      lastFwdMax = true;
      lastBwdMax = false;
      startX = lastx;
      startY = lasty;
      nextX = lastx = x;
      nextY = lasty = y;
      continue;
    }
    const totdx = x - startX;
    const totdy = y - startY;
    const totdot = origdx * totdx + origdy * totdy;
    const paradx = (totdot * origdx) / origdNorm2;
    const parady = (totdot * origdy) / origdNorm2;
    const perpdx = totdx - paradx;
    const perpdy = totdy - parady;
    const perpdNorm2 = perpdx * perpdx + perpdy * perpdy;
    if (perpdNorm2 < thresh2) {
      const paradNorm2 = paradx * paradx + parady * parady;
      lastFwdMax = false;
      lastBwdMax = false;
      if (totdot > 0) {
        if (paradNorm2 > fwdMax) {
          lastFwdMax = true;
          fwdMax = paradNorm2;
          nextX = x;
          nextY = y;
        }
      } else if (paradNorm2 > bwdMax) {
        lastBwdMax = true;
        bwdMax = paradNorm2;
        nextBX = x;
        nextBY = y;
      }
      lastx = x;
      lasty = y;
      continue;
    }
    push(x, y);
  }
  // End of path: flush the vector being built, then the last point.
  if (origdNorm2 !== 0) {
    emit(nextX, nextY);
    if (bwdMax > 0) emit(nextBX, nextBY);
  }
  emit(lastx, lasty);
  return out.subarray(0, m);
}

/** One pixel-aligned piece of a rectangle: x, y, width, height (px) and the opacity to draw it with. */
export type RectPiece = [number, number, number, number, number];

/**
 * An axis-aligned rectangle (device px) rasterised as Agg does it: 1/256 px subpixel edges, cell
 * coverage min(255, ⌊wx·wy/256⌋), integer alpha blending. Returned as pixel-aligned pieces whose
 * opacity reproduces Agg's result exactly on white (and closely over other colours) when drawn
 * without antialiasing: fill gray at opacity (255 − v) / (255 − gray).
 */
export function aggRectPieces(x0: number, y0: number, x1: number, y1: number, gray: number, alpha: number): RectPiece[] {
  const alpha8 = iround(alpha * 255);
  const spans = (a: number, b: number): Array<[number, number, number]> => {
    const sa = iround(a * 256);
    const sb = iround(b * 256);
    const out: Array<[number, number, number]> = []; // [start px, end px, covered subpixels]
    for (let c = Math.floor(sa / 256); c * 256 < sb; c++) {
      const w = Math.min(sb, (c + 1) * 256) - Math.max(sa, c * 256);
      if (w <= 0) continue;
      const last = out[out.length - 1];
      if (last && last[1] === c && last[2] === w) last[1] = c + 1;
      else out.push([c, c + 1, w]);
    }
    return out;
  };
  const pieces: RectPiece[] = [];
  for (const [cx0, cx1, wx] of spans(x0, x1)) {
    for (const [cy0, cy1, wy] of spans(y0, y1)) {
      const cover = Math.min(255, Math.floor((wx * wy) / 256));
      const v = blendChannel(gray, 255, alpha8, cover); // the gray Agg leaves on a white pixel
      if (v >= 255) continue;
      const opacity = (255 - v) / (255 - gray);
      pieces.push([cx0, cy0, cx1 - cx0, cy1 - cy0, Math.round(opacity * 1e6) / 1e6]);
    }
  }
  return pieces;
}
