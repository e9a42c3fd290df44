// Headless-Chromium harness for the FITS webview: the BUILT bundle (dist/webview/fits.js) in the
// extension's page and CSP (./webview-page.ts), with the harness playing the host's part with real
// spectra read by the core reader and the same message builders the host uses.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSpectrumFile } from '../../src/core/spectrum/open';
import type { SpectrumFile } from '../../src/core/spectrum/model';
import { errorToMessage, fileLoadedMessage, spectrumMessage } from '../../src/extension/messages';
import type { FileLoadedMessage, RenderReport, SpectrumMessage, WebviewToHostMessage } from '../../src/shared/protocol';
import { fixture, repoRoot } from '../support/paths';
import { WebviewHarness, WebviewPage, type HarnessOptions, type ThemeName } from './webview-page';

// Page-side code below runs in the browser; these names exist there, not in Node's type world.
declare const document: any;

export class Viewer extends WebviewHarness {
  private file: SpectrumFile | null = null;
  private fileName = '';
  private openedAt = Date.now();
  private loadError: unknown = null;
  /** Set by loadSynthetic: messages to answer `ready`/`getSpectrum` with instead of a file. */
  private synthetic: { file: FileLoadedMessage; spectra: SpectrumMessage[] } | null = null;

  private constructor(web: WebviewPage) {
    super(web);
  }

  /** View state as the page last saved it (`setState`). */
  get savedState(): unknown {
    return this.web.savedState;
  }

  static async open(opts: HarnessOptions = {}): Promise<Viewer> {
    let viewer: Viewer | undefined;
    const web = await WebviewPage.open({
      bundle: 'fits',
      theme: opts.theme ?? 'dark',
      viewport: opts.viewport ?? { width: 1280, height: 760 },
      deviceScaleFactor: opts.deviceScaleFactor,
      state: opts.state,
      title: () => viewer?.fileName || 'spectrum',
      receive: (msg) => viewer?.receive(msg),
    });
    viewer = new Viewer(web);
    return viewer;
  }

  /** Load a real fixture (or raw bytes) the way the host does, then show the page. */
  async load(name: string, bytes?: Uint8Array): Promise<void> {
    this.fileName = name;
    this.openedAt = Date.now();
    this.file = null;
    this.synthetic = null;
    this.loadError = null;
    try {
      this.file = readSpectrumFile(bytes ?? fs.readFileSync(fixture(name)), name);
    } catch (err) {
      this.loadError = err;
    }
    await this.web.show();
  }

  /** Load generated data (benchmarks): the host answers with these messages instead of reading a file. */
  async loadSynthetic(file: FileLoadedMessage, spectra: SpectrumMessage[]): Promise<void> {
    this.fileName = file.fileName;
    this.file = null;
    this.synthetic = { file, spectra };
    await this.web.show();
  }

  private receive(msg: WebviewToHostMessage): void {
    this.fromWebview.push(msg);
    if (this.synthetic) {
      const syn = this.synthetic;
      if (msg.type === 'ready') void this.send({ ...syn.file, openedAt: Date.now() }).then(() => this.send(syn.spectra[0]));
      if (msg.type === 'getSpectrum') void this.send({ ...syn.spectra[msg.index], requestId: msg.requestId });
      return;
    }
    if (msg.type === 'ready') {
      if (!this.file) {
        void this.send(errorToMessage(this.loadError, this.fileName, null));
        return;
      }
      void this.send(fileLoadedMessage(this.file, this.fileName, this.openedAt)).then(() => {
        if (this.file!.spectra.length) {
          const n = this.file!.spectra.length;
          const i = msg.spectrumIndex >= 0 && msg.spectrumIndex < n ? msg.spectrumIndex : 0;
          return this.send(spectrumMessage(this.file!, this.fileName, i));
        }
      });
    } else if (msg.type === 'getSpectrum' && this.file) {
      void this.send(spectrumMessage(this.file, this.fileName, msg.index, msg.requestId));
    }
  }

  get reports(): RenderReport[] {
    return this.fromWebview.filter((m) => m.type === 'rendered').map((m) => (m as { report: RenderReport }).report);
  }

  /** Wait until the webview reports a render satisfying `pred` (posted after the frame is painted). */
  async waitForReport(pred: (r: RenderReport) => boolean, timeoutMs = 30_000, what = 'render report'): Promise<RenderReport> {
    const start = Date.now();
    for (;;) {
      const hit = [...this.reports].reverse().find(pred);
      if (hit) return hit;
      if (Date.now() - start > timeoutMs) {
        const last = this.reports.at(-1);
        throw new Error(`timed out waiting for ${what}; last report: ${JSON.stringify(last)}; console errors: ${this.consoleErrors.join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Number of reports so far, to wait for the next one after an action. */
  get reportCount(): number {
    return this.reports.length;
  }

  /**
   * The mark to wait after for the effect of the next action: waits until no render report has
   * arrived for `quietMs` (a report still coming from an earlier action — a late resize, the second
   * bundle switching the toolbar in — must not be taken for the next action's), then returns the count.
   */
  async mark(quietMs = 150, timeoutMs = 5_000): Promise<number> {
    const start = Date.now();
    let count = this.reports.length;
    let since = Date.now();
    while (Date.now() - since < quietMs && Date.now() - start < timeoutMs) {
      await new Promise((r) => setTimeout(r, 25));
      if (this.reports.length !== count) {
        count = this.reports.length;
        since = Date.now();
      }
    }
    return count;
  }

  async waitForNextReport(after: number, pred: (r: RenderReport) => boolean = () => true, timeoutMs = 30_000): Promise<RenderReport> {
    const start = Date.now();
    for (;;) {
      const hit = this.reports.slice(after).reverse().find(pred);
      if (hit) return hit;
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for a new render report; last: ${JSON.stringify(this.reports.at(-1))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async setTheme(name: ThemeName): Promise<void> {
    await this.web.setTheme(name);
  }

  /** Fraction of plot-canvas pixels that differ from the most common (background) colour. */
  async inkFraction(): Promise<number> {
    return this.page.evaluate(() => {
      const c = document.querySelector('.sv-plot canvas') as { width: number; height: number; getContext(k: '2d'): any } | null;
      if (!c) return 0;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
      return ink / (c.width * c.height);
    });
  }

  /** Count of canvas pixels close to an rgb colour (tolerance per channel). */
  async countColour(rgb: [number, number, number], tol = 40): Promise<number> {
    return this.page.evaluate(([r, g, b, t]) => {
      const c = document.querySelector('.sv-plot canvas') as { width: number; height: number; getContext(k: '2d'): any } | null;
      if (!c) return 0;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && Math.abs(d[i] - r) < t && Math.abs(d[i + 1] - g) < t && Math.abs(d[i + 2] - b) < t) n++;
      return n;
    }, [...rgb, tol] as const);
  }

  /** Bounding box of the plotting area (uPlot's .u-over) in page coordinates. */
  async plotArea(): Promise<{ x: number; y: number; width: number; height: number }> {
    const box = await this.page.locator('.sv-plot .u-over').boundingBox();
    if (!box) throw new Error('plot area not found');
    return box;
  }

  async screenshot(name: string): Promise<string> {
    const dir = path.join(repoRoot, 'test-results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    await this.page.screenshot({ path: file });
    return file;
  }
}
