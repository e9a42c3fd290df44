// Text as matplotlib's Agg backend lays it out and places it: FreeType string metrics (from the
// hinted glyph table in fonts/glyphs.json, see fonts/generate-glyph-table.py), Text._get_layout
// (multi-line, alignment, rotation 0/90 with rotation_mode), and RendererAgg.draw_text's rounding of
// the string bitmap to whole pixels. Glyphs are emitted as SVG outlines, so the output depends on
// no installed font.
import glyphTable from './fonts/glyphs.json';

export type FontStyleKey = 'regular-9' | 'regular-10' | 'bold-12' | 'bold-14';

/** [advance, xMin, yMin, xMax, yMax, path] in 26.6 fixed point (1/64 px), y up. */
export type GlyphEntry = [number, number, number, number, number, string];

interface StyleTable {
  file: string;
  size: number;
  glyphs: Record<string, GlyphEntry>;
  kern: Record<string, number>;
}

const STYLES = (glyphTable as unknown as { styles: Record<FontStyleKey, StyleTable> }).styles;

/** Characters DejaVu lacks or the table does not carry are drawn as this one (matplotlib draws a box). */
const MISSING = '?';

export const FONT_SIZE_PT: Record<FontStyleKey, number> = { 'regular-9': 9, 'regular-10': 10, 'bold-12': 12, 'bold-14': 14 };

/** One glyph placed on the string's pen line (26.6 units). */
interface PlacedGlyph {
  id: string;
  entry: GlyphEntry;
  pen: number;
}

/** FT2Font.set_text result: ink bbox of the string and glyph pen positions (26.6). */
export interface StringMetrics {
  glyphs: PlacedGlyph[];
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  /** Pen position after the last glyph: matplotlib 3.6 reports this as the string's width. */
  advance: number;
}

const metricsCache = new Map<string, StringMetrics>();

function glyphFor(table: StyleTable, ch: string): [string, GlyphEntry] {
  const e = table.glyphs[ch];
  if (e) return [ch, e];
  return [MISSING, table.glyphs[MISSING]];
}

export function setText(style: FontStyleKey, s: string): StringMetrics {
  const key = style + '\u0000' + s;
  const hit = metricsCache.get(key);
  if (hit) return hit;
  const table = STYLES[style];
  let pen = 0;
  let prev: string | null = null;
  let xMin = 32000;
  let yMin = 32000;
  let xMax = -32000;
  let yMax = -32000;
  const glyphs: PlacedGlyph[] = [];
  for (const raw of s) {
    const [ch, entry] = glyphFor(table, raw);
    if (prev !== null) pen += table.kern[prev + ch] ?? 0;
    glyphs.push({ id: ch, entry, pen });
    // An empty outline (space) has the control box (0, 0, 0, 0) wherever the pen is: FreeType
    // translates points, and there are none. So a space pulls the string's xMin to 0.
    const at = entry[5] ? pen : 0;
    xMin = Math.min(xMin, at + entry[1]);
    yMin = Math.min(yMin, entry[2]);
    xMax = Math.max(xMax, at + entry[3]);
    yMax = Math.max(yMax, entry[4]);
    pen += entry[0];
    prev = ch;
  }
  if (xMin > xMax) xMin = yMin = xMax = yMax = 0;
  const m = { glyphs, xMin, yMin, xMax, yMax, advance: pen };
  if (metricsCache.size > 4096) metricsCache.clear();
  metricsCache.set(key, m);
  return m;
}

/** RendererAgg.get_text_width_height_descent, in pixels: advance width, ink height, ink descent. */
export function textWidthHeightDescent(style: FontStyleKey, s: string): [number, number, number] {
  const m = setText(style, s);
  return [m.advance / 64, (m.yMax - m.yMin) / 64, -m.yMin / 64];
}

export type HAlign = 'left' | 'center' | 'right';
export type VAlign = 'top' | 'bottom' | 'center' | 'baseline' | 'center_baseline';

export interface TextSpec {
  text: string;
  style: FontStyleKey;
  /** Anchor in display pixels (y up). */
  x: number;
  y: number;
  ha: HAlign;
  va: VAlign;
  /** 0 or 90 degrees. */
  rotation?: 0 | 90;
  rotationMode?: 'default' | 'anchor';
  /** Multi-line alignment; defaults to ha. */
  multialign?: HAlign;
}

export interface TextLine {
  text: string;
  /** Line origin relative to the anchor (display px, y up), rotated. */
  dx: number;
  dy: number;
  w: number;
  /** Line height as the layout used it: max(ink height, height of "lp"). */
  lineH: number;
}

export interface TextLayout {
  /** Window extent in display px (y up). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  lines: TextLine[];
  descent: number;
  /** The anchor the text was laid out from (display px). */
  anchorX: number;
  anchorY: number;
}

/** Text._get_layout + get_window_extent. */
export function layoutText(spec: TextSpec): TextLayout {
  const [, lpH, lpD] = textWidthHeightDescent(spec.style, 'lp');
  const minDy = (lpH - lpD) * 1.2;
  const lines = spec.text.split('\n');
  const ws: number[] = [];
  const ys: number[] = [];
  const hs: number[] = [];
  let thisy = 0;
  let d = 0;
  let baseline = 0;
  lines.forEach((line, i) => {
    let w = 0;
    let h = 0;
    d = 0;
    if (line) [w, h, d] = textWidthHeightDescent(spec.style, line);
    h = Math.max(h, lpH);
    d = Math.max(d, lpD);
    ws.push(w);
    hs.push(h);
    baseline = h - d - thisy;
    if (i === 0) thisy = -(h - d);
    else thisy -= Math.max(minDy, (h - d) * 1.2);
    ys.push(thisy);
    thisy -= d;
  });
  const descent = d;
  const width = Math.max(...ws);
  let xmin = 0;
  let xmax = width;
  let ymax = 0;
  let ymin = ys[ys.length - 1] - descent;
  const malign = spec.multialign ?? spec.ha;
  const offsets = ws.map((w) => (malign === 'left' ? 0 : malign === 'center' ? width / 2 - w / 2 : width - w));
  const rot = spec.rotation ?? 0;
  // Affine2D().rotate_deg(rot) applied as Agg does (x·a + y·c + e); cos 90° is 6.1e-17, not 0,
  // and that noise reaches the tight bbox, whose size is truncated to whole pixels.
  const ca = rot === 90 ? 6.123233995736766e-17 : 1;
  const sb = rot === 90 ? 1 : 0;
  const R = (x: number, y: number): [number, number] => (rot === 90 ? [x * ca + y * -sb + 0, x * sb + y * ca + 0] : [x, y]);
  const corners = [R(xmin, ymin), R(xmin, ymax), R(xmax, ymax), R(xmax, ymin)];
  const hxmin = xmin;
  const hxmax = xmax;
  const hymin = ymin;
  const hymax = ymax;
  xmin = Math.min(...corners.map((c) => c[0]));
  xmax = Math.max(...corners.map((c) => c[0]));
  ymin = Math.min(...corners.map((c) => c[1]));
  ymax = Math.max(...corners.map((c) => c[1]));
  const width2 = xmax - xmin;
  const height2 = ymax - ymin;
  let offx: number;
  let offy: number;
  if ((spec.rotationMode ?? 'default') !== 'anchor') {
    offx = spec.ha === 'center' ? (xmin + xmax) / 2 : spec.ha === 'right' ? xmax : xmin;
    if (spec.va === 'center') offy = (ymin + ymax) / 2;
    else if (spec.va === 'top') offy = ymax;
    else if (spec.va === 'baseline') offy = ymin + descent;
    else if (spec.va === 'center_baseline') offy = ymin + height2 - baseline / 2;
    else offy = ymin;
  } else {
    offx = spec.ha === 'center' ? (hxmin + hxmax) / 2 : spec.ha === 'right' ? hxmax : hxmin;
    if (spec.va === 'center') offy = (hymin + hymax) / 2;
    else if (spec.va === 'top') offy = hymax;
    else if (spec.va === 'baseline') offy = hymax - baseline;
    else if (spec.va === 'center_baseline') offy = hymax - baseline / 2;
    else offy = hymin;
    [offx, offy] = R(offx, offy);
  }
  const x0 = xmin - offx + spec.x;
  const y0 = ymin - offy + spec.y;
  const out: TextLine[] = lines.map((text, i) => {
    const [rx, ry] = R(offsets[i], ys[i]);
    return { text, dx: rx - offx, dy: ry - offy, w: ws[i], lineH: hs[i] };
  });
  return { x0, y0, x1: x0 + width2, y1: y0 + height2, lines: out, descent, anchorX: spec.x, anchorY: spec.y };
}

/** Round half to even, as Python's round() in RendererAgg.draw_text. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Glyph outline uses, positioned as RendererAgg.draw_text + FT2Font.draw_glyphs_to_bitmap place them. */
export interface GlyphUse {
  defId: string;
  /** SVG transform matrix (a b c d e f) mapping 26.6 outline units (y up) to device pixels. */
  m: [number, number, number, number, number, number];
}

export class GlyphDefs {
  private readonly defs = new Map<string, string>();
  id(style: FontStyleKey, ch: string, path: string): string {
    const key = style + ':' + ch;
    let id = this.defs.get(key);
    if (id === undefined) {
      id = 'g' + this.defs.size;
      this.defs.set(key, id);
      this.paths.set(id, path);
    }
    return id;
  }
  private readonly paths = new Map<string, string>();
  svg(): string {
    let s = '';
    // Outlines are in 26.6 units, y up: scaled and flipped here so a use only translates.
    for (const [id, d] of this.paths) if (d) s += `<path id="${id}" d="${d}" transform="matrix(0.015625 0 0 -0.015625 0 0)"/>`;
    return s;
  }
}

/**
 * One glyph of a placed line. Its outline point (ox, oy) (26.6 units, y up, pen-relative) lands at
 * local (lx, ly) = ((subpixel + ox) / 64, −oy / 64); local maps to device as (baseX + lx, baseY + ly)
 * unrotated and (baseX + ly, baseY − lx) at 90°. So every glyph is one of 64 subpixel shapes.
 */
export interface PlacedGlyphAt {
  ch: string;
  entry: GlyphEntry;
  subpixel: number;
  baseX: number;
  baseY: number;
}

/**
 * Places one line of text whose origin is (x, y) in device pixels with y down (canvas height already
 * applied, as Text.draw does), rotated by 0 or 90 degrees: RendererAgg.draw_text rounds the string
 * bitmap to whole pixels, FT2Font.draw_glyphs_to_bitmap puts each glyph in it.
 */
export function placeGlyphs(style: FontStyleKey, s: string, x: number, y: number, angle: 0 | 90): PlacedGlyphAt[] {
  const m = setText(style, s);
  const d = -m.yMin / 64;
  const xo = m.xMin / 64;
  const xd = angle === 90 ? d : 0;
  const yd = angle === 90 ? d * 6.123233995736766e-17 : d;
  const X = pyRound(x + xo + xd);
  const Y = pyRound(y + yd);
  const imgH = Math.trunc((m.yMax - m.yMin) / 64) + 2;
  const out: PlacedGlyphAt[] = [];
  for (const g of m.glyphs) {
    const [, gx0, , , gy1, path] = g.entry;
    if (!path) continue;
    const left = Math.floor((g.pen + gx0) / 64);
    const top = Math.ceil(gy1 / 64);
    const col = Math.trunc(left - m.xMin / 64);
    const row = Math.trunc(m.yMax / 64 - top + 1);
    const ipen = Math.floor(g.pen / 64);
    const subpixel = g.pen - ipen * 64;
    // Bitmap column u = col + (pen + ox)/64 − left, row v = row + top − oy/64 (image y down).
    if (angle === 0) out.push({ ch: g.id, entry: g.entry, subpixel, baseX: X + col - left + ipen, baseY: Y + 1 - imgH + row + top });
    // Rotated image: device = (X + v − imgH, Y + 1 − u).
    else out.push({ ch: g.id, entry: g.entry, subpixel, baseX: X + row + top - imgH, baseY: Y + 1 - col + left - ipen });
  }
  return out;
}

/** Glyph outline uses for the SVG: the placements of placeGlyphs as transforms of the outlines. */
export function placeLine(defs: GlyphDefs, style: FontStyleKey, s: string, x: number, y: number, angle: 0 | 90): GlyphUse[] {
  return placeGlyphs(style, s, x, y, angle).map((g) => {
    const id = defs.id(style, g.ch, g.entry[5]);
    const f = g.subpixel / 64;
    // with the def's flip: matrix(0 -1 1 0 E F) when rotated
    return angle === 0 ? { defId: id, m: [1 / 64, 0, 0, -1 / 64, g.baseX + f, g.baseY] } : { defId: id, m: [0, -1 / 64, -1 / 64, 0, g.baseX, g.baseY - f] };
  });
}
