// The spectrum plot: uPlot drawing flux against wavelength, with an inverse-variance error band,
// masked pixels in their own colour (kept out of autoscaling), an optional sky overlay and line
// markers that follow the redshift. Every zoom/pan goes through `setView`, which hands uPlot only
// the decimated points of the visible window (see series.ts).
import uPlot from 'uplot';
import { LINE_GROUPS, markerPosition, type LineGroupId } from '../src/shared/lines';
import type { ArmSpectrum } from '../src/shared/protocol';
import { buildPyramid, goodPixels, lowerBound, prepareWindow, sigmaFromIvar, smooth, type MinMaxPyramid, type PlotSeries, type Smoothing } from './series';

export interface PlotSpectrum {
  wavelength: Float64Array;
  flux: Float32Array;
  ivar: Float32Array | null;
  mask: Int32Array | null;
  sky: Float32Array | null;
  /** Arms as stored (DESI b/r/z), drawn over the combined spectrum when `showArms` is on. */
  arms: ArmSpectrum[];
  medium: 'air' | 'vacuum';
  redshift: number | null;
  fluxUnit: string;
}

export interface PlotOptions {
  showErrors: boolean;
  showMasked: boolean;
  showSky: boolean;
  showArms: boolean;
  /** Scale y to the 1st–99th percentile of the plotted good flux, so a few cosmic rays or sky residuals do not flatten the spectrum. */
  robustY: boolean;
  restFrame: boolean;
  smoothing: Smoothing;
  lineGroups: Record<LineGroupId, boolean>;
}

export interface PlotColours {
  foreground: string;
  muted: string;
  grid: string;
  flux: string;
  band: string;
  masked: string;
  sky: string;
  line: string;
  molecular: string;
  telluric: string;
  selection: string;
  background: string;
  /** One colour per spectrograph arm (b, r, z...). */
  arms: string[];
}

export interface DrawInfo {
  xRange: [number, number];
  yRange: [number, number];
  drawnPoints: number;
  pixelsInWindow: number;
  decimated: boolean;
  ms: number;
}

const S_UPPER = 1, S_LOWER = 2, S_FLUX = 3, S_MASKED = 4, S_SKY = 5;

export class SpectrumPlot {
  private u: uPlot | null = null;
  private spec: PlotSpectrum | null = null;
  private opts: PlotOptions;
  private colours: PlotColours;
  // Derived arrays, rebuilt only when the spectrum, frame or smoothing changes.
  private x: Float64Array = new Float64Array(0);
  private good: Uint8Array = new Uint8Array(0);
  private flux: Float64Array = new Float64Array(0);
  private sigma: Float64Array | null = null;
  private pyramid: MinMaxPyramid | null = null;
  /** Per arm: x in the shown frame, smoothed flux and good-pixel flags. */
  private armSeries: Array<{ name: string; x: Float64Array; flux: Float64Array; good: Uint8Array }> = [];
  private full: [number, number] = [0, 1];
  private view: [number, number] = [0, 1];
  private last: PlotSeries | null = null;
  private panStart: { px: number; view: [number, number] } | null = null;
  private pendingDraw: (Omit<DrawInfo, 'ms'> & { t0: number }) | null = null;
  private readonly resizeObserver: ResizeObserver;
  private resizeFrame = 0;
  /** uPlot's own initialisation, run in the first draw's batch (see ensurePlot). */
  private pendingInit: (() => void) | null = null;
  /** Inside a uPlot batch: changes join it, so the plot is drawn once when it ends. */
  private inBatch = false;

  constructor(
    private readonly container: HTMLElement,
    opts: PlotOptions,
    colours: PlotColours,
    private readonly onDraw: (info: DrawInfo) => void,
    private readonly onCursor: (text: string) => void,
  ) {
    this.opts = opts;
    this.colours = colours;
    this.resizeObserver = new ResizeObserver(() => {
      // Resize in the next frame, not inside the observer's callback: a new canvas size there can
      // change the observed box again within the frame (the "ResizeObserver loop" error), e.g.
      // while the toolbar's components upgrade after the first paint.
      if (this.resizeFrame) return;
      this.resizeFrame = requestAnimationFrame(() => {
        this.resizeFrame = 0;
        this.resize();
      });
    });
    this.resizeObserver.observe(container);
  }

  get hasData(): boolean {
    return this.spec !== null;
  }

  get currentView(): [number, number] {
    return [this.view[0], this.view[1]];
  }

  get fullRange(): [number, number] {
    return [this.full[0], this.full[1]];
  }

  /** Label for the x axis: unit, medium and frame, so the convention is always stated. */
  axisLabel(): string {
    if (!this.spec) return 'Wavelength (Å)';
    const frame = this.opts.restFrame && this.spec.redshift !== null ? `rest frame, z = ${this.spec.redshift.toFixed(5)}` : 'observed frame';
    return `Wavelength (Å, ${this.spec.medium}, ${frame})`;
  }

  setSpectrum(spec: PlotSpectrum, view: [number, number] | null): void {
    this.spec = spec;
    this.good = goodPixels(spec.flux, spec.ivar, spec.mask);
    this.rebuildDerived();
    this.ensurePlot(true);
    this.setView(view ?? this.full);
  }

  setOptions(next: PlotOptions): void {
    const prev = this.opts;
    this.opts = next;
    if (!this.spec) return;
    const frameChanged = prev.restFrame !== next.restFrame;
    const smoothingChanged = prev.smoothing.kind !== next.smoothing.kind || prev.smoothing.width !== next.smoothing.width;
    if (frameChanged || smoothingChanged) {
      const z = this.spec.redshift ?? 0;
      const factor = frameChanged ? (next.restFrame ? 1 / (1 + z) : 1 + z) : 1;
      const view: [number, number] = [this.view[0] * factor, this.view[1] * factor];
      this.rebuildDerived();
      this.ensurePlot(true);
      this.setView(view);
    } else {
      this.ensurePlot(false);
      this.setView(this.view);
    }
  }

  setColours(c: PlotColours): void {
    this.colours = c;
    if (this.u) this.u.redraw(false, true);
  }

  private rebuildDerived(): void {
    const s = this.spec!;
    const z = s.redshift ?? 0;
    const rest = this.opts.restFrame && s.redshift !== null;
    this.x = rest ? s.wavelength.map((w) => w / (1 + z)) : s.wavelength;
    const rawSigma = s.ivar ? sigmaFromIvar(s.ivar) : null;
    const sm = smooth(s.flux, rawSigma, this.good, this.opts.smoothing);
    this.flux = sm.values;
    this.sigma = sm.sigma;
    this.pyramid = buildPyramid({ flux: this.flux, sigma: this.sigma, sky: s.sky, good: this.good });
    this.armSeries = s.arms.map((arm) => {
      const good = goodPixels(arm.flux, arm.ivar, arm.mask);
      return {
        name: arm.name,
        x: rest ? arm.wavelength.map((w) => w / (1 + z)) : arm.wavelength,
        flux: smooth(arm.flux, null, good, this.opts.smoothing).values,
        good,
      };
    });
    const n = this.x.length;
    this.full = n ? [this.x[0], this.x[n - 1]] : [0, 1];
    if (!(this.full[1] > this.full[0])) this.full = [this.full[0] - 1, this.full[0] + 1];
  }

  private ensurePlot(_rebuild: boolean): void {
    if (this.u) return;
    const c = () => this.colours;
    // A canvas font cannot hold var(): VS Code's UI font is read from the body (its CSS sets it).
    // Left as var(), the assignment is ignored and labels fall back to 10 device pixels: half size on HiDPI.
    const axisFont = `11px ${getComputedStyle(document.body).fontFamily || 'sans-serif'}`;
    const self = this;
    const opts: uPlot.Options = {
      width: Math.max(200, this.container.clientWidth),
      height: Math.max(160, this.container.clientHeight),
      pxAlign: 0,
      legend: { show: false },
      scales: { x: { time: false, auto: false }, y: { auto: false } },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        bind: {
          mousedown: (_u, _t, handler) => (e: MouseEvent) => {
            if (e.shiftKey || e.button === 1) {
              self.panStart = { px: e.clientX, view: self.currentView };
              const move = (ev: MouseEvent) => self.panBy(ev.clientX - self.panStart!.px, self.panStart!.view);
              const up = () => { self.panStart = null; window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up); };
              window.addEventListener('mousemove', move);
              window.addEventListener('mouseup', up);
              return null; // uPlot's listener is passive: no preventDefault, and no selection starts
            }
            return handler(e);
          },
          dblclick: () => () => { self.reset(); return null; },
        },
      },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      axes: [
        {
          stroke: () => c().foreground, font: axisFont, labelFont: axisFont,
          grid: { stroke: () => c().grid, width: 1 }, ticks: { stroke: () => c().grid, width: 1 },
          label: '', labelSize: 18,
        },
        {
          stroke: () => c().foreground, font: axisFont, labelFont: axisFont, size: 64,
          grid: { stroke: () => c().grid, width: 1 }, ticks: { stroke: () => c().grid, width: 1 },
          label: '', labelSize: 18,
        },
      ],
      series: [
        {},
        { label: 'flux + σ', stroke: () => 'transparent', width: 0, points: { show: false } },
        { label: 'flux − σ', stroke: () => 'transparent', width: 0, points: { show: false } },
        { label: 'flux', stroke: () => c().flux, width: 1, points: { show: false } },
        { label: 'masked', stroke: () => c().masked, width: 1, points: { show: false } },
        { label: 'sky', stroke: () => c().sky, width: 1, points: { show: false } },
      ],
      bands: [{ series: [S_UPPER, S_LOWER], fill: () => c().band }],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 4) {
              const a = u.posToVal(u.select.left, 'x');
              const b = u.posToVal(u.select.left + u.select.width, 'x');
              self.setView([a, b]);
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        setCursor: [(u) => self.reportCursor(u)],
        draw: [(u) => { self.drawArms(u); self.drawMarkers(u); self.drawn(); }],
      },
    };
    // uPlot initialises (empty data, size) with a draw queued for a microtask, which would draw
    // the whole plot a second time right after setView's batch has drawn it: run the
    // initialisation inside that batch instead, so the first paint waits for one draw.
    this.u = new uPlot(opts, [[], [], [], [], [], []], (u, init) => {
      this.container.appendChild(u.root);
      this.pendingInit = init as () => void;
    });
    this.u.over.tabIndex = -1;
    // Wheel zooms about the pointer (the wavelength under it stays put); shift+wheel pans.
    this.u.over.addEventListener('wheel', (e: WheelEvent) => {
      if (!this.spec || !this.u) return;
      e.preventDefault();
      const delta = Math.abs(e.deltaY) >= Math.abs(e.deltaX) ? e.deltaY : e.deltaX;
      if (e.shiftKey) { this.panByFraction(Math.sign(delta) * 0.1); return; }
      const rect = this.u.over.getBoundingClientRect();
      const at = this.u.posToVal(e.clientX - rect.left, 'x');
      const factor = Math.pow(1.0015, Math.max(-400, Math.min(400, delta)));
      const [a, b] = this.view;
      this.setView([at - (at - a) * factor, at + (b - at) * factor]);
    }, { passive: false });
  }

  /** Show x in [a, b] (clamped to the data with a little margin); the only place data reaches uPlot. */
  setView(range: [number, number]): void {
    if (!this.u || !this.spec) return;
    this.batch(() => this.applyView(range));
  }

  /** Run `fn` in one uPlot batch (joining the current one): one draw at its end. */
  private batch(fn: () => void): void {
    if (this.inBatch) { fn(); return; }
    this.inBatch = true;
    try {
      this.u!.batch(() => {
        const init = this.pendingInit;
        this.pendingInit = null;
        init?.();
        fn();
      });
    } finally {
      this.inBatch = false;
    }
  }

  private applyView(range: [number, number]): void {
    if (!this.u || !this.spec) return;
    const t0 = performance.now();
    let [a, b] = range[0] <= range[1] ? range : [range[1], range[0]];
    const span = this.full[1] - this.full[0];
    const minSpan = Math.max(span * 1e-4, 0.5);
    if (!(Number.isFinite(a) && Number.isFinite(b))) [a, b] = this.full;
    if (b - a < minSpan) { const mid = (a + b) / 2; a = mid - minSpan / 2; b = mid + minSpan / 2; }
    const lo = this.full[0] - span * 0.02, hi = this.full[1] + span * 0.02;
    if (b - a > hi - lo) { a = lo; b = hi; }
    if (a < lo) { b += lo - a; a = lo; }
    if (b > hi) { a -= b - hi; b = hi; }
    this.view = [a, b];
    const columns = Math.max(1, Math.round(this.u.bbox.width / (devicePixelRatio || 1)));
    const w = prepareWindow(
      { x: this.x, flux: this.flux, sigma: this.opts.showErrors ? this.sigma : null, sky: this.opts.showSky ? this.spec.sky : null, good: this.good, pyramid: this.pyramid },
      a, b, columns,
    );
    this.last = w;
    const nulls = () => new Array<number | null>(w.x.length).fill(null);
    let y0 = w.yMin, y1 = w.yMax;
    if (y0 === null || y1 === null) { y0 = -1; y1 = 1; }
    // Autoscale on good flux only: masked pixels, the error band and the sky overlay never stretch the y axis.
    let padFraction = 0.06;
    if (this.opts.robustY) {
      const vals = w.flux.filter((v): v is number => v !== null).sort((p, q) => p - q);
      if (vals.length >= 20) {
        y0 = vals[Math.floor(vals.length * 0.01)];
        y1 = vals[Math.ceil(vals.length * 0.99) - 1];
        padFraction = 0.15;
      }
    }
    const pad = (y1 - y0) * padFraction || Math.abs(y1) * 0.1 || 1;
    const yRange: [number, number] = [y0 - pad, y1 + pad];
    // The draw hook reports this view with the full time (data preparation + canvas drawing).
    this.pendingDraw = { xRange: [a, b], yRange, drawnPoints: w.x.length, pixelsInWindow: w.pixelsInWindow, decimated: w.decimated, t0 };
    // Series with nothing to draw here are hidden, so uPlot builds no path over a column of nulls.
    const show: Array<[number, boolean]> = [
      [S_UPPER, !!w.upper], [S_LOWER, !!w.lower],
      [S_MASKED, this.opts.showMasked && w.masked.some((v) => v !== null)],
      [S_SKY, !!w.sky],
    ];
    const u = this.u;
    for (const [i, on] of show) if (u.series[i].show !== on) u.setSeries(i, { show: on }, false);
    u.setData([w.x, w.upper ?? nulls(), w.lower ?? nulls(), w.flux, this.opts.showMasked ? w.masked : nulls(), w.sky ?? nulls()] as uPlot.AlignedData, false);
    u.setScale('x', { min: a, max: b });
    u.setScale('y', { min: yRange[0], max: yRange[1] });

  }

  private drawn(): void {
    const p = this.pendingDraw;
    if (!p) return;
    this.pendingDraw = null;
    const { t0, ...info } = p;
    this.onDraw({ ...info, ms: performance.now() - t0 });
  }

  reset(): void {
    this.setView(this.full);
  }

  /** Zoom about the view centre (factor < 1 zooms in). */
  zoomBy(factor: number): void {
    const [a, b] = this.view;
    const mid = (a + b) / 2, half = ((b - a) / 2) * factor;
    this.setView([mid - half, mid + half]);
  }

  /** Pan by a fraction of the view width (positive = toward longer wavelengths). */
  panByFraction(fraction: number): void {
    const [a, b] = this.view;
    const d = (b - a) * fraction;
    this.setView([a + d, b + d]);
  }

  private panBy(dxPx: number, from: [number, number]): void {
    if (!this.u) return;
    const width = this.u.bbox.width / (devicePixelRatio || 1);
    const d = -((from[1] - from[0]) * dxPx) / Math.max(1, width);
    this.setView([from[0] + d, from[1] + d]);
  }

  resize(): void {
    if (!this.u || this.pendingInit) return;
    const w = Math.max(200, this.container.clientWidth), h = Math.max(160, this.container.clientHeight);
    if (w === this.u.width && h === this.u.height) return;
    // New size and the view's data in one batch: one draw (setSize alone would queue another).
    this.batch(() => {
      this.u!.setSize({ width: w, height: h });
      if (this.spec) this.applyView(this.view);
    });
  }

  private reportCursor(u: uPlot): void {
    const left = u.cursor.left;
    if (left === undefined || left < 0 || !this.spec || !this.x.length) { this.onCursor(''); return; }
    const xv = u.posToVal(left, 'x');
    let i = lowerBound(this.x, xv);
    if (i >= this.x.length) i = this.x.length - 1;
    if (i > 0 && Math.abs(this.x[i - 1] - xv) < Math.abs(this.x[i] - xv)) i--;
    const f = this.flux[i];
    const e = this.sigma ? this.sigma[i] : NaN;
    const flag = this.good[i] ? '' : ' (masked)';
    const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(3) : v.toFixed(3));
    this.onCursor(`λ ${this.x[i].toFixed(2)} Å · flux ${Number.isFinite(f) ? fmt(f) : '—'}${Number.isFinite(e) ? ` ± ${fmt(e)}` : ''}${flag}`);
  }

  /** The arms as stored, each in its own colour, decimated like the main series. */
  private drawArms(u: uPlot): void {
    if (!this.opts.showArms || !this.armSeries.length) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const columns = Math.max(1, Math.round(width / (devicePixelRatio || 1)));
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.lineWidth = devicePixelRatio || 1;
    this.armSeries.forEach((arm, k) => {
      const w = prepareWindow({ x: arm.x, flux: arm.flux, sigma: null, sky: null, good: arm.good }, this.view[0], this.view[1], columns);
      ctx.strokeStyle = this.colours.arms[k % this.colours.arms.length];
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < w.x.length; i++) {
        const y = w.flux[i];
        if (y === null) { pen = false; continue; }
        const px = u.valToPos(w.x[i], 'x', true), py = u.valToPos(y, 'y', true);
        if (pen) ctx.lineTo(px, py); else { ctx.moveTo(px, py); pen = true; }
      }
      ctx.stroke();
      // A small key in the lower-left corner names each colour.
      const dpr = devicePixelRatio || 1;
      ctx.fillStyle = ctx.strokeStyle;
      ctx.font = `bold ${11 * dpr}px sans-serif`;
      ctx.textBaseline = 'bottom';
      ctx.textAlign = 'left'; // uPlot leaves its axis alignment on the context
      ctx.fillText(`arm ${arm.name}`, left + (6 + k * 52) * dpr, top + height - 4 * dpr);
    });
    ctx.restore();
  }

  /** Vertical markers for the enabled line groups, placed for the medium, frame and redshift. */
  private drawMarkers(u: uPlot): void {
    const s = this.spec;
    if (!s) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const dpr = devicePixelRatio || 1;
    const z = s.redshift ?? 0;
    const restFrame = this.opts.restFrame && s.redshift !== null;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.font = `${10 * dpr}px sans-serif`;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    const placed: number[] = [];
    for (const g of LINE_GROUPS) {
      if (!this.opts.lineGroups[g.id]) continue;
      for (const line of g.lines) {
        const pos = (air: number) => markerPosition(air, { medium: s.medium, redshift: z, restFrame, observedFrameFeature: !!g.observedFrame });
        const x0 = u.valToPos(pos(line.air), 'x', true);
        if (line.airEnd !== undefined) {
          const x1 = u.valToPos(pos(line.airEnd), 'x', true);
          if (x1 < left || x0 > left + width) continue;
          ctx.fillStyle = this.colours.telluric;
          ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
        } else {
          if (x0 < left - 1 || x0 > left + width + 1) continue;
          ctx.strokeStyle = line.band ? this.colours.molecular : g.observedFrame ? this.colours.telluric : this.colours.line;
          ctx.lineWidth = dpr;
          ctx.setLineDash(line.band ? [] : [4 * dpr, 3 * dpr]);
          ctx.beginPath();
          ctx.moveTo(x0, top);
          ctx.lineTo(x0, top + height);
          ctx.stroke();
          if (line.band) {
            // A small wedge at the head marks a band (which extends to one side) rather than a line.
            ctx.fillStyle = this.colours.molecular;
            ctx.beginPath();
            ctx.moveTo(x0, top);
            ctx.lineTo(x0 + 8 * dpr, top);
            ctx.lineTo(x0, top + 8 * dpr);
            ctx.fill();
          }
        }
        // Stagger labels over a few rows so neighbouring lines stay readable.
        let row = 0;
        while (row < 4 && placed.some((p) => Math.abs(p - (x0 + row * 1e6)) < 48 * dpr)) row++;
        placed.push(x0 + row * 1e6);
        ctx.fillStyle = this.colours.foreground;
        ctx.setLineDash([]);
        ctx.fillText(line.label, x0 + 3 * dpr, top + (10 + row * 12) * dpr);
      }
    }
    ctx.restore();
  }

  /** Canvas of the plot, for tests and screenshots. */
  get canvas(): HTMLCanvasElement | null {
    return this.u ? this.u.ctx.canvas : null;
  }

  get lastSeries(): PlotSeries | null {
    return this.last;
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.resizeFrame);
    this.u?.destroy();
    this.u = null;
  }
}
