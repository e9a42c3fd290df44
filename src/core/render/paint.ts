// Paints a figure scene to pixels the way matplotlib's Agg backend does (raster.ts has the ports):
// rectangles and the spectrum stroke through agg's rasteriser, the statistics box through
// conv_curve + conv_stroke, and text as FreeType does it: each glyph outline rasterised at its
// 1/64-px pen position into a coverage bitmap, the string's bitmaps OR-ed together
// (FT2Image::draw_bitmap) and blended once in black.
import type { Scene, SceneOp } from './figure';
import { AggRasterizer, blendColor, Canvas, flattenQuad, strokePath } from './raster';
import { placeGlyphs, type FontStyleKey, type GlyphEntry } from './text';

/** A glyph's coverage bitmap in its local frame (see PlacedGlyphAt): pixel (i, j) is local (x0 + i, y0 + j). */
interface GlyphMask {
  x0: number;
  y0: number;
  w: number;
  h: number;
  cover: Uint8Array;
}

// The glyph cache is a font cache, as FreeType keeps one: bounded by the glyph table (4 styles ×
// ~100 glyphs × 64 subpixel positions), filled on first use, independent of what is plotted.
const glyphMasks = new Map<number, GlyphMask>();
const STYLE_INDEX: Record<FontStyleKey, number> = { 'regular-9': 0, 'regular-10': 1, 'bold-12': 2, 'bold-14': 3 };
const outlineCache = new Map<string, Array<[string, number[]]>>();

function parseOutline(d: string): Array<[string, number[]]> {
  let cmds = outlineCache.get(d);
  if (cmds) return cmds;
  cmds = [];
  const re = /([MLQZ])([^MLQZ]*)/g;
  for (let m = re.exec(d); m; m = re.exec(d)) cmds.push([m[1], m[2].trim() ? m[2].trim().split(/[\s,]+/).map(Number) : []]);
  outlineCache.set(d, cmds);
  return cmds;
}

/**
 * FreeType's gray_render_conic: the quadratic split into 2^k equal halves (k from the deviation, in
 * 1/256 px), de Casteljau with integer halving. Points in 1/256 px; returns the line end points.
 */
function conicPoints(x0: number, y0: number, cx: number, cy: number, x1: number, y1: number, out: number[]): void {
  let dx = Math.abs(x0 + x1 - 2 * cx);
  const dy = Math.abs(y0 + y1 - 2 * cy);
  if (dx < dy) dx = dy;
  let draw = 1;
  while (dx > 256 / 4) {
    dx >>= 2;
    draw <<= 1;
  }
  // arc stack as FreeType keeps it: arc[0] = end, arc[1] = control, arc[2] = start
  const ax: number[] = [x1, cx, x0];
  const ay: number[] = [y1, cy, y0];
  let top = 0;
  do {
    let split = draw & -draw;
    while ((split >>= 1)) {
      // gray_split_conic on arc[top..top+2] → arc[top..top+4]
      for (const a of [ax, ay]) {
        a[top + 4] = a[top + 2];
        const p = a[top] + a[top + 1];
        const q = a[top + 1] + a[top + 2];
        a[top + 3] = q >> 1;
        a[top + 2] = (p + q) >> 2;
        a[top + 1] = p >> 1;
      }
      top += 2;
    }
    out.push(ax[top], ay[top]);
    top -= 2;
  } while (--draw);
}

function glyphMask(style: FontStyleKey, ch: string, entry: GlyphEntry, subpixel: number): GlyphMask {
  const key = (STYLE_INDEX[style] * 0x110000 + ch.codePointAt(0)!) * 64 + subpixel;
  let mask = glyphMasks.get(key);
  if (mask) return mask;
  const [, xMin, yMin, xMax, yMax, d] = entry;
  const x0 = Math.floor((subpixel + xMin) / 64);
  const y0 = Math.floor(-yMax / 64);
  const w = Math.ceil((subpixel + xMax) / 64) - x0 + 1;
  const h = Math.ceil(-yMin / 64) - y0 + 1;
  const cover = new Uint8Array(w * h);
  const ras = new AggRasterizer(w, h);
  // Outline units (26.6, y up) → mask pixels in 1/256 (the rasteriser's precision, FreeType's UPSCALE).
  const X = (ox: number): number => (subpixel + ox) * 4 - x0 * 256;
  const Y = (oy: number): number => -oy * 4 - y0 * 256;
  let px = 0;
  let py = 0;
  const pts: number[] = [];
  for (const [cmd, a] of parseOutline(d)) {
    if (cmd === 'M') {
      px = X(a[0]);
      py = Y(a[1]);
      ras.moveTo(px / 256, py / 256);
    } else if (cmd === 'L') {
      px = X(a[0]);
      py = Y(a[1]);
      ras.lineTo(px / 256, py / 256);
    } else if (cmd === 'Q') {
      pts.length = 0;
      const ex = X(a[2]);
      const ey = Y(a[3]);
      conicPoints(px, py, X(a[0]), Y(a[1]), ex, ey, pts);
      for (let i = 0; i < pts.length; i += 2) ras.lineTo(pts[i] / 256, pts[i + 1] / 256);
      px = ex;
      py = ey;
    } else ras.closePolygon();
  }
  const n = ras.sweep();
  const hit = ras.hits();
  for (let k = 0; k < n; k++) cover[hit.y[k] * w + hit.x[k]] = hit.cover[k];
  mask = { x0, y0, w, h, cover };
  glyphMasks.set(key, mask);
  return mask;
}

let stringScratch = new Uint8Array(4096);

/** A zeroed bitmap of n bytes for one string, reused across strings (a new typed array each was a tenth of paintText). */
function stringBitmap(n: number): Uint8Array {
  if (stringScratch.length < n) stringScratch = new Uint8Array(Math.max(n, stringScratch.length * 2));
  const str = stringScratch.subarray(0, n);
  str.fill(0);
  return str;
}

function paintText(canvas: Canvas, op: Extract<SceneOp, { kind: 'text' }>): void {
  const placed = placeGlyphs(op.style, op.text, op.x, op.y, op.angle);
  if (!placed.length) return;
  // Device rectangles of every glyph bitmap, then one string bitmap they are OR-ed into.
  const rects = placed.map((g) => {
    const m = glyphMask(op.style, g.ch, g.entry, g.subpixel);
    return op.angle === 0
      ? { m, left: g.baseX + m.x0, top: g.baseY + m.y0, w: m.w, h: m.h }
      : { m, left: g.baseX + m.y0, top: g.baseY - m.x0 - m.w, w: m.h, h: m.w };
  });
  const L = Math.min(...rects.map((r) => r.left));
  const T = Math.min(...rects.map((r) => r.top));
  const R = Math.max(...rects.map((r) => r.left + r.w));
  const B = Math.max(...rects.map((r) => r.top + r.h));
  const sw = R - L;
  const str = stringBitmap(sw * (B - T));
  for (const { m, left, top } of rects) {
    if (op.angle === 0) {
      for (let j = 0; j < m.h; j++) {
        const src = j * m.w;
        const dst = (top - T + j) * sw + (left - L);
        for (let i = 0; i < m.w; i++) str[dst + i] |= m.cover[src + i];
      }
    } else {
      // local (i, j) → device column left + j, row (baseY − x0 − 1 − i) = top + (w − 1 − i)
      for (let j = 0; j < m.h; j++) {
        for (let i = 0; i < m.w; i++) {
          const v = m.cover[j * m.w + i];
          if (v) str[(top - T + (m.w - 1 - i)) * sw + (left - L + j)] |= v;
        }
      }
    }
  }
  const black = blendColor(0, 0, 0, 1);
  const xFrom = Math.max(L, 0);
  const xTo = Math.min(R, canvas.width);
  for (let y = Math.max(T, 0); y < Math.min(B, canvas.height); y++) {
    const row = (y - T) * sw - L;
    for (let x = xFrom, p = canvas.offset(xFrom, y); x < xTo; x++, p += 3) canvas.blendAt(p, black, str[row + x]);
  }
}

// One rasteriser and one canvas per thread, reused while the figure size stays (a zoom is 6×4 to
// 9×5.5 in, an overview up to 10.5×6): allocating megabytes per image only feeds the collector.
let sharedRasterizer: AggRasterizer | null = null;
let sharedPixels: Uint8Array | null = null;

/**
 * The scene's pixels: white face, then every draw in order. The canvas is reused by the next call
 * on this thread, so encode or copy it before painting again.
 */
export function paintScene(scene: Scene): Canvas {
  const { width, height, clip } = scene;
  const canvas = new Canvas(width, height, sharedPixels ?? undefined);
  if (!sharedPixels || canvas.rows.buffer !== sharedPixels.buffer) sharedPixels = canvas.rows;
  let ras = sharedRasterizer;
  if (!ras || !ras.resize(width, height)) ras = sharedRasterizer = new AggRasterizer(width, height);
  for (const op of scene.ops) {
    if (op.kind === 'text') paintText(canvas, op);
    else if (op.kind === 'rects') {
      for (const r of op.rects) canvas.fillRect(r.x0, r.y0, r.x1, r.y1, op.gray, op.gray, op.gray, op.alpha);
    } else if (op.kind === 'line') {
      ras.clipBox(clip.x0, clip.y0, clip.x1, clip.y1);
      strokePath(ras, op.xy, false, { width: op.width, join: 'round', cap: 'square', miterLimit: op.width });
      ras.fill(canvas, op.rgb[0], op.rgb[1], op.rgb[2], op.alpha);
      ras.resetClipping();
    } else {
      // BoxStyle.Round's path (y up in matplotlib, so it starts at the bottom left in device px)
      const { x0, y0, x1, y1, r } = op;
      const xy: number[] = [x0 + r, y1];
      const quad = (cx: number, cy: number, ex: number, ey: number): void => flattenQuad(xy[xy.length - 2], xy[xy.length - 1], cx, cy, ex, ey, xy);
      xy.push(x1 - r, y1);
      quad(x1, y1, x1, y1 - r);
      xy.push(x1, y0 + r);
      quad(x1, y0, x1 - r, y0);
      xy.push(x0 + r, y0);
      quad(x0, y0, x0, y0 + r);
      xy.push(x0, y1 - r);
      quad(x0, y1, x0 + r, y1);
      ras.moveTo(xy[0], xy[1]);
      for (let i = 2; i < xy.length; i += 2) ras.lineTo(xy[i], xy[i + 1]);
      ras.closePolygon();
      ras.fill(canvas, 255, 255, 255, 0.8);
      strokePath(ras, xy, true, { width: op.edgeWidth, join: 'miter', cap: 'butt', miterLimit: op.edgeWidth });
      ras.fill(canvas, 0, 0, 0, 0.8);
    }
  }
  return canvas;
}
