// The rasteriser: what matplotlib's Agg backend does to pixels, ported rather than approximated, so
// the PNG the model sees is the one it was trained on and costs a few milliseconds.
// - AggRasterizer: agg::rasterizer_scanline_aa with rasterizer_sl_clip_dbl (24.8 fixed-point cells,
//   exact area coverage, nonzero rule, identity gamma), its cells kept in a dense buffer instead of
//   sorted lists (the same sums, so the same coverage);
// - strokePath: agg::vcgen_stroke + math_stroke (joins, caps, inner miters) as matplotlib drives them;
// - flattenQuad: agg::curve3_div, matplotlib's conv_curve for quadratic Béziers;
// - blendChannel: fixed_blender_rgba_plain, matplotlib's integer alpha blending, used as lookup
//   tables (BlendColor); Canvas.fillRect: the sweep's closed form for the axis-aligned rectangles of
//   grid lines, ticks and spines.
// FreeType's smooth rasteriser computes glyph coverage with the same cell algorithm at the same
// 1/256 px precision, so glyphs (already hinted outlines) go through AggRasterizer too.

const SHIFT = 8; // poly_subpixel_shift
const SCALE = 1 << SHIFT;
const MASK = SCALE - 1;

/** Agg's iround. */
export function iround(v: number): number {
  return v < 0 ? Math.trunc(v - 0.5) : Math.trunc(v + 0.5);
}

/** rgba8::mult_cover: a·b/255 rounded, in Agg's integer form. */
export function multCover(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * An opaque RGB image, stored as PNG scanlines: each row of width·3 bytes is preceded by its filter
 * byte (0, None), so the encoder deflates the buffer as it is. matplotlib writes RGBA, but every
 * alpha of the figure is 255 (its face is opaque white), so RGB is the same image in 3/4 of the bytes.
 */
export class Canvas {
  /** PNG scanlines: filter byte + RGB row, height times. */
  readonly rows: Uint8Array;
  readonly stride: number;
  /** `backing`, when large enough, holds the rows instead of a new buffer (reuse across images). */
  constructor(
    readonly width: number,
    readonly height: number,
    backing?: Uint8Array,
  ) {
    this.stride = width * 3 + 1;
    const size = this.stride * height;
    this.rows = backing && backing.length >= size ? backing.subarray(0, size) : Buffer.allocUnsafe(size);
    this.clear();
  }

  /** Back to the white face. */
  clear(): void {
    this.rows.fill(255);
    for (let y = 0; y < this.height; y++) this.rows[y * this.stride] = 0;
  }

  /**
   * An axis-aligned rectangle as Agg rasterises it (1/256 px edges, cell coverage
   * min(255, ⌊wx·wy/256⌋)) and blends it: the closed form of the cell sweep for this one shape,
   * which grid lines, ticks and spines all are.
   */
  fillRect(x0: number, y0: number, x1: number, y1: number, r: number, g: number, b: number, alpha: number): void {
    const color = blendColor(r, g, b, alpha);
    const sx0 = iround(Math.min(x0, x1) * 256);
    const sx1 = iround(Math.max(x0, x1) * 256);
    const sy0 = iround(Math.min(y0, y1) * 256);
    const sy1 = iround(Math.max(y0, y1) * 256);
    if (sx1 <= sx0 || sy1 <= sy0) return;
    // Columns: a partial left cell, full cells (wx = 256), a partial right cell; rows likewise. Each
    // of the (up to) nine blocks has one coverage, min(255, ⌊wx·wy/256⌋), and is blended as a block.
    const first = sx0 >> 8;
    const last = (sx1 - 1) >> 8;
    const top = sy0 >> 8;
    const bottom = (sy1 - 1) >> 8;
    const cols = spans(first, last, Math.min(sx1, (first + 1) * 256) - sx0, sx1 - last * 256, this.width);
    const rows = spans(top, bottom, Math.min(sy1, (top + 1) * 256) - sy0, sy1 - bottom * 256, this.height);
    for (let j = 0; j < rows.length; j += 3) {
      for (let i = 0; i < cols.length; i += 3) {
        const cover = Math.min(255, (cols[i + 2] * rows[j + 2]) >> 8);
        if (cover) this.blendBlock(cols[i], cols[i + 1], rows[j], rows[j + 1], color, cover);
      }
    }
  }

  /**
   * Blends `color` at one coverage into the n × m pixels from (x, y), the longer side in the inner
   * loop: a vertical grid line is hundreds of rows of one or two pixels, and the grid is tens of
   * thousands of pixels per image.
   */
  private blendBlock(x: number, n: number, y: number, m: number, color: BlendColor, cover: number): void {
    const d = this.rows;
    const tr = color.r;
    const tg = color.g;
    const tb = color.b;
    const k = cover << 8;
    const stride = this.stride;
    const p0 = y * stride + 1 + x * 3;
    // Two loops with constant steps: one loop with the steps in variables measured 1.5× slower.
    if (m > n) {
      for (let c = 0; c < n; c++) {
        const end = p0 + c * 3 + (m - 1) * stride;
        for (let p = p0 + c * 3; p <= end; p += stride) {
          d[p] = tr[k | d[p]];
          d[p + 1] = tg[k | d[p + 1]];
          d[p + 2] = tb[k | d[p + 2]];
        }
      }
    } else {
      for (let r = 0; r < m; r++) {
        const end = p0 + r * stride + (n - 1) * 3;
        for (let p = p0 + r * stride; p <= end; p += 3) {
          d[p] = tr[k | d[p]];
          d[p + 1] = tg[k | d[p + 1]];
          d[p + 2] = tb[k | d[p + 2]];
        }
      }
    }
  }

  /** Byte offset of pixel (x, y) in the scanlines. */
  offset(x: number, y: number): number {
    return y * this.stride + 1 + x * 3;
  }

  /** Blends `color` at `cover` (0–255) into the pixel at byte offset p. */
  blendAt(p: number, color: BlendColor, cover: number): void {
    if (cover === 0) return;
    const k = cover << 8;
    const d = this.rows;
    d[p] = color.r[k | d[p]];
    d[p + 1] = color.g[k | d[p + 1]];
    d[p + 2] = color.b[k | d[p + 2]];
  }
}

/**
 * The cells from a to b (inclusive) as runs [start, count, weight in 1/256 px], clipped to [0, size):
 * cell a weighs wa, cell b (when b > a) wb, the cells between 256.
 */
function spans(a: number, b: number, wa: number, wb: number, size: number): number[] {
  const out: number[] = [];
  if (a >= 0 && a < size) out.push(a, 1, wa);
  const from = Math.max(a + 1, 0);
  const to = Math.min(b - 1, size - 1);
  if (to >= from) out.push(from, to - from + 1, 256);
  if (b > a && b >= 0 && b < size) out.push(b, 1, wb);
  return out;
}

/** A colour at an alpha as Agg blends it: one lookup table per channel, [cover·256 + destination]. */
export interface BlendColor {
  r: Uint8Array;
  g: Uint8Array;
  b: Uint8Array;
}

/** The blend tables for colour (r, g, b), each 0–255, at alpha 0–1. */
export function blendColor(r: number, g: number, b: number, alpha: number): BlendColor {
  const a8 = iround(alpha * 255);
  return { r: blendTable(r, a8), g: blendTable(g, a8), b: blendTable(b, a8) };
}

/**
 * fixed_blender_rgba_plain::blend_pix for one channel over an opaque pixel, with pixfmt's copy when
 * both the colour's alpha and the coverage are full.
 */
export function blendChannel(src: number, dst: number, alpha8: number, cover: number): number {
  if (alpha8 === 255 && cover === 255) return src;
  const a = multCover(alpha8, cover);
  if (a === 0) return dst;
  const d = dst * 255;
  // 65280 + a is ((a + 255) << 8) − a·255 with the destination's alpha 255
  return Math.floor((((src << 8) - d) * a + (d << 8)) / (65280 + a));
}

const blendTables = new Map<number, Uint8Array>();

/** blendChannel as a table for one channel value and alpha (a figure uses a handful of colours). */
function blendTable(value: number, alpha8: number): Uint8Array {
  const key = value * 256 + alpha8;
  let t = blendTables.get(key);
  if (!t) {
    t = new Uint8Array(65536);
    for (let cover = 0; cover < 256; cover++) for (let dst = 0; dst < 256; dst++) t[(cover << 8) | dst] = blendChannel(value, dst, alpha8, cover);
    blendTables.set(key, t);
  }
  return t;
}

/**
 * agg::rasterizer_scanline_aa<rasterizer_sl_clip_dbl> over a dense cell buffer. Coordinates are
 * device pixels (y down). The clip box is integer pixels; without one the canvas bounds clip.
 */
export class AggRasterizer {
  private cover: Int32Array;
  private area: Int32Array;
  /** Per row, one flag per 32-cell block holding any cell: the sweep skips empty blocks. */
  private touched: Uint8Array;
  private stride: number;
  private blocks: number;
  private minX = 0x7fffffff;
  private minY = 0x7fffffff;
  private maxX = -0x7fffffff;
  private maxY = -0x7fffffff;
  private cx1 = 0;
  private cy1 = 0;
  private cx2 = 0;
  private cy2 = 0;
  // clipper state
  private x1 = 0;
  private y1 = 0;
  private f1 = 0;
  private startX = 0;
  private startY = 0;
  /** A polygon has line segments that closePolygon has not closed yet. */
  private open = false;

  width: number;
  height: number;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.stride = width + 2;
    this.cover = new Int32Array(this.stride * (height + 2));
    this.area = new Int32Array(this.stride * (height + 2));
    this.blocks = (this.stride >> 5) + 1;
    this.touched = new Uint8Array(this.blocks * (height + 2));
    this.resetClipping();
  }

  /**
   * Reuses the buffers for another size when they are large enough (they are all zero between
   * sweeps, so a new row length needs no clearing); false when a new rasteriser is needed.
   */
  resize(width: number, height: number): boolean {
    const stride = width + 2;
    const rows = height + 2;
    const blocks = (stride >> 5) + 1;
    if (stride * rows > this.cover.length || blocks * rows > this.touched.length) return false;
    this.width = width;
    this.height = height;
    this.stride = stride;
    this.blocks = blocks;
    this.resetClipping();
    return true;
  }

  /** rasterizer.clip_box(x1, y1, x2, y2) in whole pixels, kept inside the canvas. */
  clipBox(x1: number, y1: number, x2: number, y2: number): void {
    this.cx1 = Math.max(0, Math.min(x1, x2));
    this.cy1 = Math.max(0, Math.min(y1, y2));
    this.cx2 = Math.min(this.width, Math.max(x1, x2));
    this.cy2 = Math.min(this.height, Math.max(y1, y2));
  }

  resetClipping(): void {
    this.clipBox(0, 0, this.width, this.height);
  }

  private flags(x: number, y: number): number {
    return (x > this.cx2 ? 1 : 0) | (y > this.cy2 ? 2 : 0) | (x < this.cx1 ? 4 : 0) | (y < this.cy1 ? 8 : 0);
  }

  private flagsY(y: number): number {
    return (y > this.cy2 ? 2 : 0) | (y < this.cy1 ? 8 : 0);
  }

  moveTo(x: number, y: number): void {
    this.closePolygon();
    this.startX = this.x1 = x;
    this.startY = this.y1 = y;
    this.f1 = this.flags(x, y);
  }

  lineTo(x2: number, y2: number): void {
    const f2 = this.flags(x2, y2);
    const f1 = this.f1;
    const x1 = this.x1;
    const y1 = this.y1;
    // both ends above or both below the box: nothing to draw
    if ((f1 & 10) !== (f2 & 10) || (f1 & 10) === 0) {
      const X1 = this.cx1;
      const X2 = this.cx2;
      switch (((f1 & 5) << 1) | (f2 & 5)) {
        case 0:
          this.clipY(x1, y1, x2, y2, f1, f2);
          break;
        case 1: {
          const y3 = yAt(x1, y1, x2, y2, X2);
          const f3 = this.flagsY(y3);
          this.clipY(x1, y1, X2, y3, f1, f3);
          this.clipY(X2, y3, X2, y2, f3, f2);
          break;
        }
        case 2: {
          const y3 = yAt(x1, y1, x2, y2, X2);
          const f3 = this.flagsY(y3);
          this.clipY(X2, y1, X2, y3, f1, f3);
          this.clipY(X2, y3, x2, y2, f3, f2);
          break;
        }
        case 3:
          this.clipY(X2, y1, X2, y2, f1, f2);
          break;
        case 4: {
          const y3 = yAt(x1, y1, x2, y2, X1);
          const f3 = this.flagsY(y3);
          this.clipY(x1, y1, X1, y3, f1, f3);
          this.clipY(X1, y3, X1, y2, f3, f2);
          break;
        }
        case 6: {
          const y3 = yAt(x1, y1, x2, y2, X2);
          const y4 = yAt(x1, y1, x2, y2, X1);
          const f3 = this.flagsY(y3);
          const f4 = this.flagsY(y4);
          this.clipY(X2, y1, X2, y3, f1, f3);
          this.clipY(X2, y3, X1, y4, f3, f4);
          this.clipY(X1, y4, X1, y2, f4, f2);
          break;
        }
        case 8: {
          const y3 = yAt(x1, y1, x2, y2, X1);
          const f3 = this.flagsY(y3);
          this.clipY(X1, y1, X1, y3, f1, f3);
          this.clipY(X1, y3, x2, y2, f3, f2);
          break;
        }
        case 9: {
          const y3 = yAt(x1, y1, x2, y2, X1);
          const y4 = yAt(x1, y1, x2, y2, X2);
          const f3 = this.flagsY(y3);
          const f4 = this.flagsY(y4);
          this.clipY(X1, y1, X1, y3, f1, f3);
          this.clipY(X1, y3, X2, y4, f3, f4);
          this.clipY(X2, y4, X2, y2, f4, f2);
          break;
        }
        case 12:
          this.clipY(X1, y1, X1, y2, f1, f2);
          break;
      }
    }
    this.f1 = f2;
    this.x1 = x2;
    this.y1 = y2;
    this.open = true;
  }

  closePolygon(): void {
    if (this.open) {
      this.lineTo(this.startX, this.startY);
      this.open = false;
    }
  }

  private clipY(x1: number, y1: number, x2: number, y2: number, f1: number, f2: number): void {
    f1 &= 10;
    f2 &= 10;
    if ((f1 | f2) === 0) {
      this.line(iround(x1 * SCALE), iround(y1 * SCALE), iround(x2 * SCALE), iround(y2 * SCALE));
      return;
    }
    if (f1 === f2) return;
    let tx1 = x1;
    let ty1 = y1;
    let tx2 = x2;
    let ty2 = y2;
    const Y1 = this.cy1;
    const Y2 = this.cy2;
    if (f1 & 8) {
      tx1 = x1 + ((Y1 - y1) * (x2 - x1)) / (y2 - y1);
      ty1 = Y1;
    }
    if (f1 & 2) {
      tx1 = x1 + ((Y2 - y1) * (x2 - x1)) / (y2 - y1);
      ty1 = Y2;
    }
    if (f2 & 8) {
      tx2 = x1 + ((Y1 - y1) * (x2 - x1)) / (y2 - y1);
      ty2 = Y1;
    }
    if (f2 & 2) {
      tx2 = x1 + ((Y2 - y1) * (x2 - x1)) / (y2 - y1);
      ty2 = Y2;
    }
    this.line(iround(tx1 * SCALE), iround(ty1 * SCALE), iround(tx2 * SCALE), iround(ty2 * SCALE));
  }

  /** Adds to cell (ex, ey): the dense form of set_curr_cell + accumulate. */
  private cell(ex: number, ey: number, cover: number, area: number): void {
    if (ex < this.minX) this.minX = ex;
    if (ex > this.maxX) this.maxX = ex;
    if (ey < this.minY) this.minY = ey;
    if (ey > this.maxY) this.maxY = ey;
    // Clipping keeps cells within [cx1, cx2] × [cy1, cy2]; the guard only protects the buffer.
    const cx = ex < -1 ? -1 : ex > this.width ? this.width : ex;
    const cy = ey < -1 ? -1 : ey > this.height ? this.height : ey;
    const i = (cy + 1) * this.stride + cx + 1;
    this.cover[i] += cover;
    this.area[i] += area;
    this.touched[(cy + 1) * this.blocks + ((cx + 1) >> 5)] = 1;
  }

  /** rasterizer_cells_aa::render_hline (integer arithmetic, C division semantics). */
  private hline(ey: number, x1: number, y1: number, x2: number, y2: number): void {
    let ex1 = x1 >> SHIFT;
    const ex2 = x2 >> SHIFT;
    const fx1 = x1 & MASK;
    const fx2 = x2 & MASK;
    if (y1 === y2) return; // set_curr_cell only
    if (ex1 === ex2) {
      const delta = y2 - y1;
      this.cell(ex1, ey, delta, (fx1 + fx2) * delta);
      return;
    }
    let p = (SCALE - fx1) * (y2 - y1);
    let first = SCALE;
    let incr = 1;
    let dx = x2 - x1;
    if (dx < 0) {
      p = fx1 * (y2 - y1);
      first = 0;
      incr = -1;
      dx = -dx;
    }
    let delta = Math.trunc(p / dx);
    let mod = p - delta * dx;
    if (mod < 0) {
      delta--;
      mod += dx;
    }
    this.cell(ex1, ey, delta, (fx1 + first) * delta);
    ex1 += incr;
    y1 += delta;
    if (ex1 !== ex2) {
      p = SCALE * (y2 - y1 + delta);
      let lift = Math.trunc(p / dx);
      let rem = p - lift * dx;
      if (rem < 0) {
        lift--;
        rem += dx;
      }
      mod -= dx;
      while (ex1 !== ex2) {
        delta = lift;
        mod += rem;
        if (mod >= 0) {
          mod -= dx;
          delta++;
        }
        this.cell(ex1, ey, delta, SCALE * delta);
        y1 += delta;
        ex1 += incr;
      }
    }
    delta = y2 - y1;
    this.cell(ex1, ey, delta, (fx2 + SCALE - first) * delta);
  }

  /** rasterizer_cells_aa::line in 24.8 fixed point. */
  private line(x1: number, y1: number, x2: number, y2: number): void {
    const dxLimit = 16384 << SHIFT;
    let dx = x2 - x1;
    if (dx >= dxLimit || dx <= -dxLimit) {
      const cx = (x1 + x2) >> 1;
      const cy = (y1 + y2) >> 1;
      this.line(x1, y1, cx, cy);
      this.line(cx, cy, x2, y2);
      return;
    }
    let dy = y2 - y1;
    let ey1 = y1 >> SHIFT;
    const ey2 = y2 >> SHIFT;
    const fy1 = y1 & MASK;
    const fy2 = y2 & MASK;
    if (ey1 === ey2) {
      this.hline(ey1, x1, fy1, x2, fy2);
      return;
    }
    let incr = 1;
    if (dx === 0) {
      const ex = x1 >> SHIFT;
      const twoFx = (x1 - (ex << SHIFT)) << 1;
      let first = SCALE;
      if (dy < 0) {
        first = 0;
        incr = -1;
      }
      let delta = first - fy1;
      this.cell(ex, ey1, delta, twoFx * delta);
      ey1 += incr;
      delta = first + first - SCALE;
      const area = twoFx * delta;
      while (ey1 !== ey2) {
        this.cell(ex, ey1, delta, area);
        ey1 += incr;
      }
      delta = fy2 - SCALE + first;
      this.cell(ex, ey1, delta, twoFx * delta);
      return;
    }
    let p = (SCALE - fy1) * dx;
    let first = SCALE;
    if (dy < 0) {
      p = fy1 * dx;
      first = 0;
      incr = -1;
      dy = -dy;
    }
    let delta = Math.trunc(p / dy);
    let mod = p - delta * dy;
    if (mod < 0) {
      delta--;
      mod += dy;
    }
    let xFrom = x1 + delta;
    this.hline(ey1, x1, fy1, xFrom, first);
    ey1 += incr;
    if (ey1 !== ey2) {
      p = SCALE * dx;
      let lift = Math.trunc(p / dy);
      let rem = p - lift * dy;
      if (rem < 0) {
        lift--;
        rem += dy;
      }
      mod -= dy;
      while (ey1 !== ey2) {
        delta = lift;
        mod += rem;
        if (mod >= 0) {
          mod -= dy;
          delta++;
        }
        const xTo = xFrom + delta;
        this.hline(ey1, xFrom, SCALE - first, xTo, first);
        xFrom = xTo;
        ey1 += incr;
      }
    }
    this.hline(ey1, xFrom, SCALE - first, x2, fy2);
  }

  /** Coverage found by the last sweep: pixel x, y and coverage 1–255, in scan order. */
  private hitX = new Int32Array(4096);
  private hitY = new Int32Array(4096);
  private hitCover = new Uint8Array(4096);

  /**
   * sweep_scanline over every row (nonzero rule, gamma none): collects each covered pixel's coverage
   * and leaves the rasteriser empty. Returns the number of pixels in hits().
   */
  sweep(): number {
    this.closePolygon();
    if (this.minX > this.maxX) return 0;
    const x0 = Math.max(this.minX, -1);
    const x1 = Math.min(this.maxX, this.width);
    const y0 = Math.max(this.minY, 0);
    const y1 = Math.min(this.maxY, this.height);
    const { cover: cb, area: ab, stride, touched, blocks, width, height } = this;
    let n = 0;
    // Rows outside the canvas (only −1 and height can hold cells) are cleared, not drawn.
    for (const y of [-1, height]) {
      if (y < this.minY || y > this.maxY) continue;
      const row = (y + 1) * stride;
      cb.fill(0, row, row + stride);
      ab.fill(0, row, row + stride);
      touched.fill(0, (y + 1) * blocks, (y + 2) * blocks);
    }
    const b0 = (x0 + 1) >> 5;
    const b1 = ((x1 + 1) >> 5) + 1;
    for (let y = y0; y <= y1 && y < height; y++) {
      const row = (y + 1) * stride + 1;
      const trow = (y + 1) * blocks;
      let cover = 0;
      for (let x = x0; x <= x1; x++) {
        if (cover === 0 && touched[trow + ((x + 1) >> 5)] === 0) {
          x = ((x + 1) | 31) - 1; // the block holds no cell: on to the next one
          continue;
        }
        const i = row + x;
        const c = cb[i];
        const a = ab[i];
        let v: number;
        if (c !== 0 || a !== 0) {
          cover += c;
          v = ((cover << (SHIFT + 1)) - a) >> (SHIFT + 1);
          cb[i] = 0;
          ab[i] = 0;
        } else {
          if (cover === 0) continue;
          v = cover;
        }
        if (v < 0) v = -v;
        if (v === 0 || x < 0 || x >= width) continue;
        if (n === this.hitX.length) this.grow();
        this.hitX[n] = x;
        this.hitY[n] = y;
        this.hitCover[n++] = v > 255 ? 255 : v;
      }
      touched.fill(0, trow + b0, trow + b1);
    }
    this.minX = this.minY = 0x7fffffff;
    this.maxX = this.maxY = -0x7fffffff;
    return n;
  }

  private grow(): void {
    const x = new Int32Array(this.hitX.length * 2);
    x.set(this.hitX);
    const y = new Int32Array(this.hitY.length * 2);
    y.set(this.hitY);
    const c = new Uint8Array(this.hitCover.length * 2);
    c.set(this.hitCover);
    this.hitX = x;
    this.hitY = y;
    this.hitCover = c;
  }

  /** The last sweep's pixels: x, y and coverage arrays (valid up to the count sweep returned). */
  hits(): { x: Int32Array; y: Int32Array; cover: Uint8Array } {
    return { x: this.hitX, y: this.hitY, cover: this.hitCover };
  }

  /** Sweeps and blends a solid colour (alpha 0–1) onto the canvas. */
  fill(canvas: Canvas, r: number, g: number, b: number, alpha: number): void {
    const n = this.sweep();
    const color = blendColor(r, g, b, alpha);
    for (let k = 0; k < n; k++) canvas.blendAt(canvas.offset(this.hitX[k], this.hitY[k]), color, this.hitCover[k]);
  }
}

export type LineJoin = 'miter' | 'round' | 'bevel';
export type LineCap = 'butt' | 'square';

export interface StrokeStyle {
  width: number;
  join: LineJoin;
  cap: LineCap;
  miterLimit: number;
}

const VERTEX_DIST_EPSILON = 1e-14;
const INTERSECTION_EPSILON = 1.0e-30;

// vertexSequence's arrays, reused by every stroke on this thread (growing number[]s per stroke were
// a tenth of a worker's garbage).
let sequenceX = new Float64Array(1024);
let sequenceY = new Float64Array(1024);
let sequenceD = new Float64Array(1024);

/**
 * Drops consecutive coincident vertices as vertex_sequence<vertex_dist> does; returns xs, ys, dists
 * (the first n of each; valid until the next call on this thread).
 */
function vertexSequence(xy: ArrayLike<number>, closed: boolean): { x: Float64Array; y: Float64Array; d: Float64Array; n: number } {
  const size = (xy.length >> 1) + 1;
  if (sequenceX.length < size) {
    sequenceX = new Float64Array(2 * size);
    sequenceY = new Float64Array(2 * size);
    sequenceD = new Float64Array(2 * size);
  }
  const x = sequenceX;
  const y = sequenceY;
  const d = sequenceD;
  let n = 0;
  /** vertex_dist::operator(): stores the distance from i to j as i's, false when they coincide. */
  const check = (i: number, j: number): boolean => {
    const v = calcDistance(x[i], y[i], x[j], y[j]);
    const ok = v > VERTEX_DIST_EPSILON;
    d[i] = ok ? v : 1 / VERTEX_DIST_EPSILON;
    return ok;
  };
  for (let k = 0; k + 1 < xy.length; k += 2) {
    if (n > 1 && !check(n - 2, n - 1)) n--;
    x[n] = xy[k];
    y[n] = xy[k + 1];
    d[n] = 0;
    n++;
  }
  // close(closed)
  while (n > 1) {
    if (check(n - 2, n - 1)) break;
    n--;
    x[n - 1] = x[n];
    y[n - 1] = y[n];
  }
  if (closed) {
    while (n > 1) {
      if (check(n - 1, 0)) break;
      n--;
    }
  }
  return { x, y, d, n };
}

/** agg::calc_distance: sqrt(dx² + dy²) as written (Math.hypot rounds differently, and is slower). */
function calcDistance(x1: number, y1: number, x2: number, y2: number): number {
  const dx = x2 - x1;
  const dy = y2 - y1;
  return Math.sqrt(dx * dx + dy * dy);
}

/** y of the line through (x1, y1) and (x2, y2) at x (the clipper's mul_div). */
function yAt(x1: number, y1: number, x2: number, y2: number, x: number): number {
  return y1 + ((x - x1) * (y2 - y1)) / (x2 - x1);
}

function crossProduct(x1: number, y1: number, x2: number, y2: number, x: number, y: number): number {
  return (x - x2) * (y2 - y1) - (y - y2) * (x2 - x1);
}

/**
 * agg::conv_stroke<path> as matplotlib configures it (math_stroke: inner_miter joins, approximation
 * scale 1), added to the rasteriser as Agg emits it: one polygon for an open path (cap, one side,
 * cap, the other side), two for a closed one.
 */
export function strokePath(ras: AggRasterizer, xy: ArrayLike<number>, closedPath: boolean, style: StrokeStyle): void {
  const { x, y, d, n } = vertexSequence(xy, closedPath);
  const closed = closedPath && n >= 3;
  if (n < 2 + (closed ? 1 : 0)) return;
  const w = style.width * 0.5; // m_width (sign +)
  const wAbs = Math.abs(w);
  const wEps = w / 1024;
  const approx = 1;
  const innerMiterLimit = 1.01;
  let first = true;
  const out = (px: number, py: number): void => {
    if (first) {
      ras.moveTo(px, py);
      first = false;
    } else ras.lineTo(px, py);
  };

  const calcArc = (cx: number, cy: number, dx1: number, dy1: number, dx2: number, dy2: number): void => {
    let a1 = Math.atan2(dy1, dx1);
    let a2 = Math.atan2(dy2, dx2);
    let da = Math.acos(wAbs / (wAbs + 0.125 / approx)) * 2;
    out(cx + dx1, cy + dy1);
    if (a1 > a2) a2 += 2 * Math.PI;
    const k = Math.trunc((a2 - a1) / da);
    da = (a2 - a1) / (k + 1);
    a1 += da;
    for (let i = 0; i < k; i++) {
      out(cx + Math.cos(a1) * w, cy + Math.sin(a1) * w);
      a1 += da;
    }
    out(cx + dx2, cy + dy2);
  };

  // The last intersection found, in a typed array: a new [x, y] per join (thousands per image), or
  // doubles in closure variables (boxed on every write), fed the young generation a fifth of a worker's garbage.
  const hit = new Float64Array(2);
  const intersection = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number, dx: number, dy: number): boolean => {
    const num = (ay - cy) * (dx - cx) - (ax - cx) * (dy - cy);
    const den = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx);
    if (Math.abs(den) < INTERSECTION_EPSILON) return false;
    const r = num / den;
    hit[0] = ax + r * (bx - ax);
    hit[1] = ay + r * (by - ay);
    return true;
  };

  const calcMiter = (i0: number, i1: number, i2: number, dx1: number, dy1: number, dx2: number, dy2: number, revert: boolean, mlimit: number, dbevel: number): void => {
    const v0x = x[i0], v0y = y[i0], v1x = x[i1], v1y = y[i1], v2x = x[i2], v2y = y[i2];
    const lim = wAbs * mlimit;
    let exceeded = true;
    const found = intersection(v0x + dx1, v0y - dy1, v1x + dx1, v1y - dy1, v1x + dx2, v1y - dy2, v2x + dx2, v2y - dy2);
    if (found) {
      const di = calcDistance(v1x, v1y, hit[0], hit[1]);
      if (di <= lim) {
        out(hit[0], hit[1]);
        exceeded = false;
      }
    } else {
      const x2 = v1x + dx1;
      const y2 = v1y - dy1;
      if (crossProduct(v0x, v0y, v1x, v1y, x2, y2) < 0 === crossProduct(v1x, v1y, v2x, v2y, x2, y2) < 0) {
        out(v1x + dx1, v1y - dy1);
        exceeded = false;
      }
    }
    if (exceeded) {
      if (revert) {
        // miter_join_revert: a simple bevel, as SVG and PDF do
        out(v1x + dx1, v1y - dy1);
        out(v1x + dx2, v1y - dy2);
      } else if (!found) {
        const m = mlimit; // × m_width_sign (+1)
        out(v1x + dx1 + dy1 * m, v1y - dy1 + dx1 * m);
        out(v1x + dx2 - dy2 * m, v1y - dy2 - dx2 * m);
      } else {
        // miter_join past the limit: the miter chopped at the limit distance
        const di = (lim - dbevel) / (calcDistance(v1x, v1y, hit[0], hit[1]) - dbevel);
        const ax = v1x + dx1;
        const ay = v1y - dy1;
        const bx = v1x + dx2;
        const by = v1y - dy2;
        out(ax + (hit[0] - ax) * di, ay + (hit[1] - ay) * di);
        out(bx + (hit[0] - bx) * di, by + (hit[1] - by) * di);
      }
    }
  };

  const calcJoin = (i0: number, i1: number, i2: number, len1: number, len2: number): void => {
    const dx1 = (w * (y[i1] - y[i0])) / len1;
    const dy1 = (w * (x[i1] - x[i0])) / len1;
    const dx2 = (w * (y[i2] - y[i1])) / len2;
    const dy2 = (w * (x[i2] - x[i1])) / len2;
    const cp = crossProduct(x[i0], y[i0], x[i1], y[i1], x[i2], y[i2]);
    if (cp > VERTEX_DIST_EPSILON && w > 0) {
      // inner join: inner_miter
      let limit = (len1 < len2 ? len1 : len2) / wAbs;
      if (limit < innerMiterLimit) limit = innerMiterLimit;
      calcMiter(i0, i1, i2, dx1, dy1, dx2, dy2, true, limit, 0);
      return;
    }
    const dx = (dx1 + dx2) / 2;
    const dy = (dy1 + dy2) / 2;
    const dbevel = Math.sqrt(dx * dx + dy * dy);
    if (style.join === 'round' || style.join === 'bevel') {
      if (approx * (wAbs - dbevel) < wEps) {
        if (intersection(x[i0] + dx1, y[i0] - dy1, x[i1] + dx1, y[i1] - dy1, x[i1] + dx2, y[i1] - dy2, x[i2] + dx2, y[i2] - dy2)) out(hit[0], hit[1]);
        else out(x[i1] + dx1, y[i1] - dy1);
        return;
      }
    }
    if (style.join === 'miter') calcMiter(i0, i1, i2, dx1, dy1, dx2, dy2, false, style.miterLimit, dbevel);
    else if (style.join === 'round') calcArc(x[i1], y[i1], dx1, -dy1, dx2, -dy2);
    else {
      out(x[i1] + dx1, y[i1] - dy1);
      out(x[i1] + dx2, y[i1] - dy2);
    }
  };

  const calcCap = (i0: number, i1: number, len: number): void => {
    const dx1 = ((y[i1] - y[i0]) / len) * w;
    const dy1 = ((x[i1] - x[i0]) / len) * w;
    // a square cap reaches half the width past the end; a butt cap stops there
    const dx2 = style.cap === 'square' ? dy1 : 0;
    const dy2 = style.cap === 'square' ? dx1 : 0;
    out(x[i0] - dx1 - dx2, y[i0] + dy1 - dy2);
    out(x[i0] + dx1 - dx2, y[i0] - dy1 - dy2);
  };

  const prev = (i: number): number => (i + n - 1) % n;
  const next = (i: number): number => (i + 1) % n;
  if (!closed) {
    calcCap(0, 1, d[0]);
    for (let i = 1; i < n - 1; i++) calcJoin(prev(i), i, next(i), d[prev(i)], d[i]);
    calcCap(n - 1, n - 2, d[n - 2]);
    for (let i = n - 2; i >= 1; i--) calcJoin(next(i), i, prev(i), d[i], d[prev(i)]);
    ras.closePolygon();
  } else {
    for (let i = 0; i < n; i++) calcJoin(prev(i), i, next(i), d[prev(i)], d[i]);
    ras.closePolygon();
    first = true;
    for (let i = n - 1; i >= 0; i--) calcJoin(next(i), i, prev(i), d[i], d[prev(i)]);
    ras.closePolygon();
  }
}

/** agg::curve3_div (approximation scale 1, angle tolerance 0): the points after the start point. */
export function flattenQuad(x1: number, y1: number, x2: number, y2: number, x3: number, y3: number, out: number[]): void {
  const tol2 = 0.5 * 0.5;
  const rec = (x1: number, y1: number, x2: number, y2: number, x3: number, y3: number, level: number): void => {
    if (level > 32) return;
    const x12 = (x1 + x2) / 2;
    const y12 = (y1 + y2) / 2;
    const x23 = (x2 + x3) / 2;
    const y23 = (y2 + y3) / 2;
    const x123 = (x12 + x23) / 2;
    const y123 = (y12 + y23) / 2;
    const dx = x3 - x1;
    const dy = y3 - y1;
    let d = Math.abs((x2 - x3) * dy - (y2 - y3) * dx);
    if (d > 1e-30) {
      if (d * d <= tol2 * (dx * dx + dy * dy)) {
        out.push(x123, y123);
        return;
      }
    } else {
      const da = dx * dx + dy * dy;
      const sq = (ax: number, ay: number, bx: number, by: number): number => (bx - ax) ** 2 + (by - ay) ** 2;
      if (da === 0) d = sq(x1, y1, x2, y2);
      else {
        d = ((x2 - x1) * dx + (y2 - y1) * dy) / da;
        if (d > 0 && d < 1) return;
        if (d <= 0) d = sq(x2, y2, x1, y1);
        else if (d >= 1) d = sq(x2, y2, x3, y3);
        else d = sq(x2, y2, x1 + d * dx, y1 + d * dy);
      }
      if (d < tol2) {
        out.push(x2, y2);
        return;
      }
    }
    rec(x1, y1, x12, y12, x123, y123, level + 1);
    rec(x123, y123, x23, y23, x3, y3, level + 1);
  };
  rec(x1, y1, x2, y2, x3, y3, 0);
  out.push(x3, y3);
}
