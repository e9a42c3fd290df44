// The Spec-o3 plotting recipe (docs/spec-o3-protocol.md §5) as matplotlib 3.6 + Agg executes it:
// figure-size table, plot, labels, grid, MultipleLocator/AutoMinorLocator ticks, stats box,
// plt.tight_layout(), savefig(dpi=80, bbox_inches='tight'). Everything is computed in matplotlib's
// display pixels (y up), then shifted by the tight bounding box and flipped exactly as Agg does
// (paths against the integer canvas height, text against the float one), with Agg's pixel snapping.
// The result is a Scene, the list of draws Agg would make: paint.ts turns it into pixels, svg.ts into SVG.
import { autoLocator, autoMinorLocator, autoscale, formatExp, formatFixed, inView, multipleLocator, removeOverlapping, ScalarFormatter } from './ticker';
import { shouldSimplify, simplifyPath, snapPath as snap } from './agg';
import { FONT_SIZE_PT, layoutText, type TextLayout, type TextSpec } from './text';

export const DPI = 80;
const PX_PER_PT = DPI / 72;

export interface PreparedData {
  wave: Float64Array;
  flux: Float64Array;
}

export interface FigureOptions {
  window: [number, number] | null;
  title: string;
}


/** Drop non-finite points, sort by wavelength, cut to the window (inclusive). */
export function prepareData(wavelength: ArrayLike<number>, flux: ArrayLike<number>, window: [number, number] | null): PreparedData {
  const n = Math.min(wavelength.length, flux.length);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = Number(wavelength[i]);
    const f = Number(flux[i]);
    if (!Number.isFinite(w) || !Number.isFinite(f)) continue;
    if (window && (w < window[0] || w > window[1])) continue;
    idx.push(i);
  }
  let sorted = true;
  for (let j = 1; j < idx.length && sorted; j++) sorted = Number(wavelength[idx[j - 1]]) <= Number(wavelength[idx[j]]);
  if (!sorted) idx.sort((a, b) => Number(wavelength[a]) - Number(wavelength[b]) || a - b);
  const wave = new Float64Array(idx.length);
  const fl = new Float64Array(idx.length);
  idx.forEach((k, j) => {
    wave[j] = Number(wavelength[k]);
    fl[j] = Number(flux[k]);
  });
  return { wave, flux: fl };
}

/** Figure size in inches from the recipe's table. */
export function figureSize(window: [number, number] | null, dataSpan: number, n: number): [number, number] {
  let size: [number, number];
  if (window) {
    const w = window[1] - window[0];
    size = w < 50 ? [6, 4] : w < 200 ? [7, 4.5] : w < 1000 ? [8, 5] : [9, 5.5];
  } else {
    const w = dataSpan;
    size = w > 3000 ? [10, 6] : w > 1000 ? [8, 5] : w > 200 ? [7, 4.5] : [6, 4];
  }
  if (n > 10000) size = [size[0] * 1.05, size[1]];
  else if (n < 50) size = [size[0] * 0.95, size[1]];
  return size;
}

/**
 * Major/minor x spacing. The bands are chosen by the span of the plotted wavelengths: the
 * reference renders show 10/2 Å for the 6500–6600 window (98 Å of data) and 25/5 Å for 5100–5250.
 */
export function xTickSpacing(span: number): [number, number] {
  const table: Array<[number, number, number]> = [
    [5000, 1000, 200],
    [1000, 200, 50],
    [500, 100, 20],
    [300, 100, 25],
    [150, 50, 25],
    [100, 25, 5],
    [50, 10, 2],
    [20, 5, 1],
    [5, 2, 0.5],
  ];
  for (const [min, major, minor] of table) if (span >= min) return [major, minor];
  return [1, 0.2];
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function union(boxes: Box[]): Box {
  return {
    x0: Math.min(...boxes.map((b) => b.x0)),
    y0: Math.min(...boxes.map((b) => b.y0)),
    x1: Math.max(...boxes.map((b) => b.x1)),
    y1: Math.max(...boxes.map((b) => b.y1)),
  };
}

const nonEmpty = (b: Box): boolean => b.x1 - b.x0 > 0 && b.y1 - b.y0 > 0;

export interface Decorations {
  ax: Box;
  xMajor: number[];
  xMinor: number[];
  yMajor: number[];
  yMinor: number[];
  xLabels: TextLayout[];
  yLabels: TextLayout[];
  xOffset: TextLayout | null;
  yOffset: TextLayout | null;
  xLabel: TextLayout;
  yLabel: TextLayout;
  title: TextLayout;
  stats: TextLayout | null;
  xd: (x: number) => number;
  yd: (y: number) => number;
  xView: [number, number];
  yView: [number, number];
}

export interface Model {
  data: PreparedData;
  xView: [number, number];
  yView: [number, number];
  xMajorStep: number;
  xMinorStep: number;
  title: string;
  statsText: string | null;
  statsCorner: 'upper left' | 'upper right' | 'lower left' | 'lower right';
}

// Offsets written in the order matplotlib evaluates them, so float noise matches to the last bit
// (the canvas size is truncated to an int, and 351.99999999999997 is 351).
const TICK_PAD = (3.5 / 72) * DPI; // ScaledTranslation(0, -pad/72); inward ticks add nothing
const LABEL_PAD = (4 * DPI) / 72;
const OFFSET_PAD = (3 * DPI) / 72;
const TITLE_PAD = (20 / 72) * DPI;

/** Every layout-dependent element for a given axes box (display px, y up). */
function decorate(m: Model, ax: Box): Decorations {
  const [xv0, xv1] = m.xView;
  const [yv0, yv1] = m.yView;
  // transData = BboxTransformFrom(viewLim) + BboxTransformTo(axes bbox), composed as one affine.
  const xin = 1.0 / (xv1 - xv0);
  const yin = 1.0 / (yv1 - yv0);
  const axW = ax.x1 - ax.x0;
  const axH = ax.y1 - ax.y0;
  const xa = axW * xin;
  const xe = axW * (-xv0 * xin) + ax.x0;
  const ya = axH * yin;
  const ye = axH * (-yv0 * yin) + ax.y0;
  const xd = (x: number): number => xa * x + xe;
  const yd = (y: number): number => ya * y + ye;

  const xMajorAll = multipleLocator(m.xMajorStep, xv0, xv1);
  const xMinorAll = removeOverlapping(multipleLocator(m.xMinorStep, xv0, xv1), xMajorAll, xv0, xv1);
  const tickSpace = Math.floor((((ax.y1 - ax.y0) / DPI) * 72) / 20);
  const yMajorAll = autoLocator(yv0, yv1, tickSpace);
  const yMinorAll = removeOverlapping(autoMinorLocator(yMajorAll, yv0, yv1), yMajorAll, yv0, yv1);

  const xFmt = new ScalarFormatter(xv0, xv1);
  const xTexts = xFmt.formatTicks(xMajorAll);
  const yFmt = new ScalarFormatter(yv0, yv1);
  const yTexts = yFmt.formatTicks(yMajorAll);

  const xMajor: number[] = [];
  const xLabels: TextLayout[] = [];
  xMajorAll.forEach((loc, i) => {
    if (!inView(loc, xv0, xv1)) return;
    xMajor.push(loc);
    xLabels.push(layoutText({ text: xTexts[i], style: 'regular-10', x: xd(loc), y: ax.y0 - TICK_PAD, ha: 'center', va: 'top' }));
  });
  const yMajor: number[] = [];
  const yLabels: TextLayout[] = [];
  yMajorAll.forEach((loc, i) => {
    if (!inView(loc, yv0, yv1)) return;
    yMajor.push(loc);
    yLabels.push(layoutText({ text: yTexts[i], style: 'regular-10', x: ax.x0 - TICK_PAD, y: yd(loc), ha: 'right', va: 'center_baseline' }));
  });
  const xMinor = xMinorAll.filter((l) => inView(l, xv0, xv1));
  const yMinor = yMinorAll.filter((l) => inView(l, yv0, yv1));

  const xLabelBoxes = xLabels.filter(nonEmpty);
  const yLabelBoxes = yLabels.filter(nonEmpty);
  const xo = xFmt.offsetText();
  const xOffset = xo
    ? layoutText({ text: xo, style: 'regular-10', x: axW * 1.0 + ax.x0, y: (xLabelBoxes.length ? union(xLabelBoxes).y0 : ax.y0) - OFFSET_PAD, ha: 'right', va: 'top' })
    : null;
  const yo = yFmt.offsetText();
  const yOffset = yo ? layoutText({ text: yo, style: 'regular-10', x: ax.x0, y: ax.y1 + OFFSET_PAD, ha: 'left', va: 'baseline' }) : null;

  const bottom = Math.min(ax.y0, ...xLabelBoxes.map((b) => b.y0));
  const xLabel = layoutText({ text: 'Wavelength (Å)', style: 'bold-12', x: axW * 0.5 + ax.x0, y: bottom - LABEL_PAD, ha: 'center', va: 'top' });
  const left = Math.min(ax.x0, ...yLabelBoxes.map((b) => b.x0));
  const yLabel = layoutText({
    text: 'Flux',
    style: 'bold-12',
    x: left - LABEL_PAD,
    y: axH * 0.5 + ax.y0,
    ha: 'center',
    va: 'bottom',
    rotation: 90,
    rotationMode: 'anchor',
  });

  // transAxes + titleOffsetTrans compose into one affine: y = h·1 + (y0 + pad), in that order.
  // Axes._update_title_position: the title moves up only if the y offset text would collide.
  const titleSpec: TextSpec = { text: m.title, style: 'bold-14', x: axW * 0.5 + ax.x0, y: axH * 1.0 + (ax.y0 + TITLE_PAD), ha: 'center', va: 'baseline' };
  let title = layoutText(titleSpec);
  if (m.title && yOffset && nonEmpty(yOffset)) {
    const hit = Math.max(yOffset.x0, title.x0) <= Math.min(yOffset.x1, title.x1) && Math.max(yOffset.y0, title.y0) <= Math.min(yOffset.y1, title.y1);
    const top = hit ? yOffset.y1 : ax.y1;
    if (title.y0 < top) {
      title = layoutText({ ...titleSpec, y: top + TITLE_PAD });
      if (title.y0 < top) title = layoutText({ ...titleSpec, y: 2 * top - title.y0 + TITLE_PAD });
    }
  }

  let stats: TextLayout | null = null;
  if (m.statsText) {
    const right = m.statsCorner.endsWith('right');
    const upper = m.statsCorner.startsWith('upper');
    stats = layoutText({
      text: m.statsText,
      style: 'regular-9',
      x: axW * (right ? 0.98 : 0.02) + ax.x0,
      y: axH * (upper ? 0.98 : 0.02) + ax.y0,
      ha: right ? 'right' : 'left',
      va: upper ? 'top' : 'bottom',
    });
  }
  return { ax, xMajor, xMinor, yMajor, yMinor, xLabels, yLabels, xOffset, yOffset, xLabel, yLabel, title, stats, xd, yd, xView: m.xView, yView: m.yView };
}

/** Axes.get_tightbbox; forLayout collapses the title and x label widths and the y label height (tight_layout). */
function tightBox(d: Decorations, forLayout: boolean): Box {
  // Spines count as extra artists with their inward ticks (the right and top ones have no ticks,
  // zero width, and are dropped); their ends are the view limits through transData.
  const tickLen = (3.5 * DPI) / 72;
  const leftSpine: Box = { x0: d.ax.x0, x1: d.ax.x0 + tickLen, y0: d.yd(d.yView[0]), y1: d.yd(d.yView[1]) };
  const bottomSpine: Box = { x0: d.xd(d.xView[0]), x1: d.xd(d.xView[1]), y0: d.ax.y0, y1: d.ax.y0 + tickLen };
  const boxes: Box[] = [d.ax, leftSpine, bottomSpine, ...d.xLabels, ...d.yLabels];
  if (d.xOffset) boxes.push(d.xOffset);
  if (d.yOffset) boxes.push(d.yOffset);
  const collapseX = (b: Box): Box => {
    if (!forLayout || b.x1 - b.x0 <= 0) return b;
    const x0 = (b.x0 + b.x1) / 2 - 0.5;
    return { ...b, x0, x1: x0 + 1 };
  };
  const collapseY = (b: Box): Box => {
    if (!forLayout || b.y1 - b.y0 <= 0) return b;
    const y0 = (b.y0 + b.y1) / 2 - 0.5;
    return { ...b, y0, y1: y0 + 1 };
  };
  boxes.push(collapseX(d.xLabel), collapseY(d.yLabel), collapseX(d.title));
  if (d.stats) boxes.push(d.stats);
  return union(boxes.filter(nonEmpty));
}

function buildModel(data: PreparedData, opts: FigureOptions): Model {
  const n = data.wave.length;
  let wMin = Infinity;
  let wMax = -Infinity;
  let fMin = Infinity;
  let fMax = -Infinity;
  for (let i = 0; i < n; i++) {
    wMin = Math.min(wMin, data.wave[i]);
    wMax = Math.max(wMax, data.wave[i]);
    fMin = Math.min(fMin, data.flux[i]);
    fMax = Math.max(fMax, data.flux[i]);
  }
  const span = n >= 2 ? wMax - wMin : opts.window ? opts.window[1] - opts.window[0] : 0;
  const [xMajorStep, xMinorStep] = xTickSpacing(span);
  const xView = autoscale(n ? wMin : -Infinity, n ? wMax : Infinity, 'multiple');
  const yView = autoscale(n ? fMin : -Infinity, n ? fMax : Infinity, 'auto');
  let statsText: string | null = null;
  let statsCorner: Model['statsCorner'] = 'upper left';
  if (n) {
    statsText = `Data points: ${n}\nλ range: ${formatFixed(wMin, 1)} - ${formatFixed(wMax, 1)} Å\nFlux range: ${formatExp(fMin, 2)} - ${formatExp(fMax, 2)}`;
    const midW = (wMin + wMax) / 2;
    const midF = (fMin + fMax) / 2;
    // points per quadrant, in the recipe's order (the first emptiest corner wins ties)
    const corners: Array<Model['statsCorner']> = ['upper left', 'upper right', 'lower left', 'lower right'];
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[(data.flux[i] < midF ? 2 : 0) + (data.wave[i] < midW ? 0 : 1)]++;
    let best = Infinity;
    counts.forEach((v, k) => {
      if (v < best) {
        best = v;
        statsCorner = corners[k];
      }
    });
  }
  return { data, xView, yView, xMajorStep, xMinorStep, title: opts.title, statsText, statsCorner };
}

/** GridSpec.get_grid_positions for a 1×1 grid (figure fractions), with its float arithmetic. */
function gridPosition(left: number, right: number, bottom: number, top: number): Box {
  return { x0: left + 0, y0: top - (top - bottom), x1: left + (right - left), y1: top - 0 };
}

/** plt.tight_layout() for one subplot: returns the new axes box. */
function tightLayout(m: Model, figW: number, figH: number, wIn: number, hIn: number): Box {
  const orig = gridPosition(0.125, 0.9, 0.11, 0.88);
  const toPx = (f: Box): Box => ({ x0: f.x0 * figW, y0: f.y0 * figH, x1: f.x1 * figW, y1: f.y1 * figH });
  const tb = tightBox(decorate(m, toPx(orig)), true);
  const padIn = 1.08 * (10 / 72);
  const fx = 1 / figW;
  const fy = 1 / figH;
  const marginLeft = Math.max(orig.x0 - tb.x0 * fx, 0) + padIn / wIn;
  const marginRight = Math.max(tb.x1 * fx - orig.x1, 0) + padIn / wIn;
  const marginTop = Math.max(tb.y1 * fy - orig.y1, 0) + padIn / hIn;
  const marginBottom = Math.max(orig.y0 - tb.y0 * fy, 0) + padIn / hIn;
  // matplotlib warns and leaves the layout alone when the decorations cannot fit
  if (marginLeft + marginRight >= 1 || marginBottom + marginTop >= 1) return toPx(orig);
  return toPx(gridPosition(marginLeft, 1 - marginRight, marginBottom, 1 - marginTop));
}


/** The figure's geometry after tight_layout and the tight crop (display px, y up, before the shift). */
export interface FigureLayout {
  figureInches: [number, number];
  decorations: Decorations;
  /** Tight bounding box in display px (unpadded). */
  tight: Box;
  /** Canvas origin (display px) and float size; the PNG is trunc(size). */
  origin: [number, number];
  canvas: [number, number];
}

export function computeLayout(data: PreparedData, opts: FigureOptions): { layout: FigureLayout; model: Model } {
  const n = data.wave.length;
  const span = n ? data.wave[n - 1] - data.wave[0] : 0;
  const [wIn, hIn] = figureSize(opts.window, span, n);
  const figW = wIn * DPI;
  const figH = hIn * DPI;
  const model = buildModel(data, opts);
  const ax = tightLayout(model, figW, figH, wIn, hIn);
  const d = decorate(model, ax);
  // savefig(bbox_inches='tight'): the tight box in inches padded by 0.1, canvas truncated to ints.
  const tb = tightBox(d, false);
  const x0In = tb.x0 * (1 / DPI) - 0.1;
  const y0In = tb.y0 * (1 / DPI) - 0.1;
  const x1In = tb.x1 * (1 / DPI) + 0.1;
  const y1In = tb.y1 * (1 / DPI) + 0.1;
  const layout: FigureLayout = {
    figureInches: [wIn, hIn],
    decorations: d,
    tight: tb,
    origin: [x0In * DPI, y0In * DPI],
    canvas: [(x1In - x0In) * DPI, (y1In - y0In) * DPI],
  };
  return { layout, model };
}

/** A canvas-aligned integer box (device px, y down): the rasteriser's clip box. */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * One Agg draw call of the figure, in device pixels (y down), in matplotlib's drawing order. The
 * scene is painted to pixels by paint.ts and written as SVG by svg.ts: one figure, two outputs.
 */
export type SceneOp =
  /** Axis-aligned rectangles (grid lines, ticks, spines), each its own draw: overlaps compound. */
  | { kind: 'rects'; rects: Box[]; gray: number; alpha: number }
  /** One line of text; (x, y) is the line origin as Text.draw hands it to RendererAgg.draw_text. */
  | { kind: 'text'; style: TextSpec['style']; text: string; x: number; y: number; angle: 0 | 90 }
  /** The spectrum: snapped and simplified vertices (x, y interleaved), stroked and clipped to the axes (Scene.clip). */
  | { kind: 'line'; xy: Float64Array; width: number; rgb: [number, number, number]; alpha: number }
  /** The statistics box: FancyBboxPatch 'round' of radius r, white fill and black edge, both at alpha 0.8. */
  | { kind: 'box'; x0: number; y0: number; x1: number; y1: number; r: number; edgeWidth: number };

export interface Scene {
  width: number;
  height: number;
  /** The axes clip box. */
  clip: PixelBox;
  ops: SceneOp[];
  nPoints: number;
}

/** Builds the scene: recipe + layout + tight crop, as the list of draws Agg would make. */
export function buildFigure(data: PreparedData, opts: FigureOptions): Scene {
  const n = data.wave.length;
  const { layout, model: m } = computeLayout(data, opts);
  const d = layout.decorations;
  const ax = d.ax;
  const [X0, Y0] = layout.origin;
  const [canvasW, canvasH] = layout.canvas;
  const W = Math.trunc(canvasW);
  const H = Math.trunc(canvasH);
  const px = (x: number): number => x - X0;
  const py = (y: number): number => H - (y - Y0); // paths: integer canvas height
  const ty = (y: number): number => canvasH - (y - Y0); // text: float canvas height

  const ops: SceneOp[] = [];
  const clip: PixelBox = {
    x0: Math.max(Math.floor(px(ax.x0) + 0.5), 0),
    y0: Math.max(Math.floor(py(ax.y1) + 0.5), 0),
    x1: Math.min(Math.floor(px(ax.x1) + 0.5), W),
    y1: Math.min(Math.floor(py(ax.y0) + 0.5), H),
  };

  /** A laid-out text, line by line, from its anchor as RendererAgg.draw_text places it. */
  const drawText = (t: TextLayout, style: TextSpec['style'], angle: 0 | 90 = 0): void => {
    for (const line of t.lines) {
      if (line.text) ops.push({ kind: 'text', style, text: line.text, x: px(t.anchorX + line.dx), y: ty(t.anchorY + line.dy), angle });
    }
  };
  const drawRects = (rects: Box[], gray: number, alpha: number): void => {
    if (rects.length) ops.push({ kind: 'rects', rects, gray, alpha });
  };

  /**
   * Grid lines: snapped, square-capped, clipped to the axes. An axis-aligned square-capped stroke is
   * a rectangle, so the clip is done here geometrically.
   */
  const gridLine = (segments: Array<Array<[number, number]>>, widthPt: number, alpha: number): void => {
    if (!segments.length) return;
    const w = widthPt * PX_PER_PT;
    const hw = w / 2;
    const rects: Box[] = [];
    for (const seg of segments) {
      const [ax0, ay0, ax1, ay1] = snap(Float64Array.of(px(seg[0][0]), py(seg[0][1]), px(seg[1][0]), py(seg[1][1])), w);
      const x0 = Math.max(Math.min(ax0, ax1) - hw, clip.x0);
      const x1 = Math.min(Math.max(ax0, ax1) + hw, clip.x1);
      const y0 = Math.max(Math.min(ay0, ay1) - hw, clip.y0);
      const y1 = Math.min(Math.max(ay0, ay1) + hw, clip.y1);
      if (x1 > x0 && y1 > y0) rects.push({ x0, y0, x1, y1 });
    }
    drawRects(rects, 0xb0, alpha);
  };
  /** Tick markers (Agg draw_markers): snapped marker path at floor(position + 0.5). */
  const ticks = (positions: Array<[number, number]>, lengthPt: number, widthPt: number, dir: 'up' | 'right'): void => {
    if (!positions.length) return;
    const w = widthPt * PX_PER_PT;
    const s = Math.floor(w + 0.5) % 2 ? 0.5 : 0;
    const len = Math.floor(lengthPt * PX_PER_PT + 0.5);
    const hw = w / 2;
    const rects: Box[] = [];
    for (const [x, y] of positions) {
      const mx = Math.floor(px(x) + 0.5) + s;
      const my = Math.floor(py(y) + 0.5) + s;
      // a butt-capped stroke from (mx, my) up or right by len
      if (dir === 'up') rects.push({ x0: mx - hw, x1: mx + hw, y0: my - len, y1: my });
      else rects.push({ x0: mx, x1: mx + len, y0: my - hw, y1: my + hw });
    }
    drawRects(rects, 0, 1);
  };

  // x axis: major ticks (grid, tick, label), minor ticks, label, offset text.
  gridLine(d.xMajor.map((l) => [[d.xd(l), ax.y0], [d.xd(l), ax.y1]]), 0.5, 0.3);
  ticks(d.xMajor.map((l) => [d.xd(l), ax.y0]), 3.5, 0.8, 'up');
  for (const t of d.xLabels) drawText(t, 'regular-10');
  gridLine(d.xMinor.map((l) => [[d.xd(l), ax.y0], [d.xd(l), ax.y1]]), 0.3, 0.1);
  ticks(d.xMinor.map((l) => [d.xd(l), ax.y0]), 2, 0.6, 'up');
  drawText(d.xLabel, 'bold-12');
  if (d.xOffset) drawText(d.xOffset, 'regular-10');
  // y axis
  gridLine(d.yMajor.map((l) => [[ax.x0, d.yd(l)], [ax.x1, d.yd(l)]]), 0.5, 0.3);
  ticks(d.yMajor.map((l) => [ax.x0, d.yd(l)]), 3.5, 0.8, 'right');
  for (const t of d.yLabels) drawText(t, 'regular-10');
  gridLine(d.yMinor.map((l) => [[ax.x0, d.yd(l)], [ax.x1, d.yd(l)]]), 0.3, 0.1);
  ticks(d.yMinor.map((l) => [ax.x0, d.yd(l)]), 2, 0.6, 'right');
  drawText(d.yLabel, 'bold-12', 90);
  if (d.yOffset) drawText(d.yOffset, 'regular-10');

  // The spectrum: blue, 1 pt, alpha 0.8, round joins, projecting caps, clipped to the axes.
  if (n >= 2) {
    const lw = 1 * PX_PER_PT;
    let xy: Float64Array = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      xy[2 * i] = px(d.xd(data.wave[i]));
      xy[2 * i + 1] = py(d.yd(data.flux[i]));
    }
    xy = snap(xy, lw);
    if (shouldSimplify(n)) xy = simplifyPath(xy);
    ops.push({ kind: 'line', xy, width: lw, rgb: [0, 0, 255], alpha: 0.8 });
  }

  // Spines: left, right, bottom, top, each its own draw; 0.8 pt black, snapped, butt caps (so each
  // is a pixel-aligned rectangle).
  const spineWidth = 0.8 * PX_PER_PT;
  const spine = (a: [number, number], b: [number, number]): void => {
    const [x0, y0, x1, y1] = snap(Float64Array.of(px(a[0]), py(a[1]), px(b[0]), py(b[1])), spineWidth);
    const hw = spineWidth / 2;
    const r: Box = x0 === x1
      ? { x0: x0 - hw, x1: x0 + hw, y0: Math.min(y0, y1), y1: Math.max(y0, y1) }
      : { x0: Math.min(x0, x1), x1: Math.max(x0, x1), y0: y0 - hw, y1: y0 + hw };
    drawRects([r], 0, 1);
  };
  spine([ax.x0, ax.y0], [ax.x0, ax.y1]);
  spine([ax.x1, ax.y0], [ax.x1, ax.y1]);
  spine([ax.x0, ax.y0], [ax.x1, ax.y0]);
  spine([ax.x0, ax.y1], [ax.x1, ax.y1]);

  // Statistics box: FancyBboxPatch 'round' (pad 0.3 × font size) around the text, then the text.
  if (d.stats) {
    const pad = 0.3 * FONT_SIZE_PT['regular-9'] * PX_PER_PT;
    const b = statsBox(d.stats);
    ops.push({ kind: 'box', x0: px(b.x0) - pad, x1: px(b.x1) + pad, y0: py(b.y1) - pad, y1: py(b.y0) + pad, r: pad, edgeWidth: PX_PER_PT });
    drawText(d.stats, 'regular-9');
  }
  if (m.title) drawText(d.title, 'bold-14');
  return { width: W, height: H, clip, ops, nPoints: n };
}

/** Text._get_textbox: the box the bbox patch surrounds (line extents, not ink). */
function statsBox(t: TextLayout): Box {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const l of t.lines) {
    const x = t.anchorX + l.dx;
    const y = t.anchorY + l.dy - t.descent;
    xs.push(x, x + l.w);
    ys.push(y, y + l.lineH);
  }
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}
