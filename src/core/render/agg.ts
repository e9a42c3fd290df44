// The two path converters of matplotlib's Agg backend (src/path_converters.h) that change what a
// spectrum line looks like: PathSnapper (rectilinear paths to pixel centres or edges) and
// PathSimplifier (merges runs of nearly collinear segments, within 1/9 px, keeping the extremes
// in both directions). matplotlib simplifies every line of 128+ vertices, so doing the same here is
// both faithful and what keeps a million-point spectrum fast.

export type Point = [number, number];

/** PathSnapper in SNAP_AUTO mode; widthPx is the stroke width in pixels. */
export function snapPath(points: Point[], widthPx: number): Point[] {
  if (points.length > 1024) return points;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    if (Math.abs(x0 - x1) >= 1e-4 && Math.abs(y0 - y1) >= 1e-4) return points;
  }
  const s = Math.floor(widthPx + 0.5) % 2 ? 0.5 : 0;
  return points.map(([x, y]) => [Math.floor(x + 0.5) + s, Math.floor(y + 0.5) + s]);
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
export function simplifyPath(points: Point[]): Point[] {
  const out: Point[] = [];
  if (points.length === 0) return out;
  const thresh2 = SIMPLIFY_THRESHOLD * SIMPLIFY_THRESHOLD;
  let lastx = points[0][0];
  let lasty = points[0][1];
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
        out.push([nextBX, nextBY], [nextX, nextY]);
      } else {
        out.push([nextX, nextY], [nextBX, nextBY]);
      }
    } else {
      out.push([nextX, nextY]);
    }
    if (clipped) out.push([lastx, lasty]);
    else if (!lastFwdMax && !lastBwdMax) out.push([lastx, lasty]);
    origdx = x - lastx;
    origdy = y - lasty;
    origdNorm2 = origdx * origdx + origdy * origdy;
    fwdMax = origdNorm2;
    lastFwdMax = true;
    [startX, startY] = out[out.length - 1];
    lastx = nextX = x;
    lasty = nextY = y;
    bwdMax = 0;
    lastBwdMax = false;
    clipped = false;
  };

  for (let i = 1; i < points.length; i++) {
    const [x, y] = points[i];
    if (origdNorm2 === 0) {
      if (clipped) {
        out.push([lastx, lasty]); // the MOVETO
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
    out.push([nextX, nextY]);
    if (bwdMax > 0) out.push([nextBX, nextBY]);
  }
  out.push([lastx, lasty]);
  return out;
}

/** Agg's iround. */
function iround(v: number): number {
  return Math.trunc(v < 0 ? v - 0.5 : v + 0.5);
}

/** rgba8::mult_cover: a·b/255 rounded, in Agg's integer form. */
function multCover(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * Gray level Agg leaves on a white pixel after blending `gray` at `alpha` with `cover` (0–255),
 * through matplotlib's fixed_blender_rgba_plain (integer arithmetic, truncating division).
 */
function blendOverWhite(gray: number, alpha8: number, cover: number): number {
  const a = multCover(alpha8, cover);
  if (a === 0) return 255;
  const r = 255 * 255;
  const aNew = ((a + 255) << 8) - a * 255;
  return Math.floor((((gray << 8) - r) * a + r * 256) / aNew);
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
      const v = blendOverWhite(gray, alpha8, cover);
      if (v >= 255) continue;
      const opacity = (255 - v) / (255 - gray);
      pieces.push([cx0, cy0, cx1 - cx0, cy1 - cy0, Math.round(opacity * 1e6) / 1e6]);
    }
  }
  return pieces;
}
