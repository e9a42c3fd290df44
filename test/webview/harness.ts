// Headless-Chromium harness for the FITS webview: serves the BUILT bundle (dist/webview) inside
// the same HTML page and CSP the extension uses, shims acquireVsCodeApi, and plays the host's
// part with real spectra read by the core reader and the same message builders the host uses.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { readSpectrumFile } from '../../src/core/spectrum/open';
import type { SpectrumFile } from '../../src/core/spectrum/model';
import { errorToMessage, fileLoadedMessage, spectrumMessage } from '../../src/extension/messages';
import { fitsViewerHtml } from '../../src/extension/webviewHtml';
import type { FileLoadedMessage, HostToWebviewMessage, RenderReport, SpectrumMessage, WebviewToHostMessage } from '../../src/shared/protocol';
import { launchChromium, type LaunchedBrowser } from '../support/chromium';
import { fixture, repoRoot } from '../support/paths';

// Page-side code below runs in the browser; these names exist there, not in Node's type world.
declare const document: any;
declare const window: any;
declare const getComputedStyle: any;


export const ORIGIN = 'https://specvet.test';
const NONCE = 'harnessNonce0123456789abcdefABCD';

/** The theme variables VS Code injects (Dark Modern / Light Modern values). */
export const THEMES = {
  dark: {
    '--vscode-editor-foreground': '#cccccc', '--vscode-editor-background': '#1f1f1f', '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-charts-blue': '#3794ff', '--vscode-charts-red': '#f14c4c', '--vscode-charts-green': '#89d185',
    '--vscode-charts-orange': '#d18616', '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700',
    '--vscode-font-family': 'DejaVu Sans, sans-serif', '--vscode-editor-font-family': 'DejaVu Sans Mono, monospace', '--vscode-font-size': '13px',
    '--vscode-foreground': '#cccccc', '--vscode-focusBorder': '#0078d4', '--vscode-widget-border': '#313131',
    '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc',
    '--vscode-checkbox-background': '#313131', '--vscode-checkbox-border': '#3c3c3c', '--vscode-checkbox-foreground': '#cccccc',
    '--vscode-dropdown-background': '#313131', '--vscode-dropdown-border': '#3c3c3c', '--vscode-dropdown-foreground': '#cccccc', '--vscode-dropdown-listBackground': '#1f1f1f',
    '--vscode-input-background': '#313131', '--vscode-input-foreground': '#cccccc', '--vscode-input-placeholderForeground': '#989898',
    '--vscode-panelTitle-activeForeground': '#cccccc', '--vscode-panelTitle-inactiveForeground': '#9d9d9d', '--vscode-panelTitle-activeBorder': '#0078d4',
    '--vscode-panel-border': '#2b2b2b', '--vscode-badge-background': '#616161', '--vscode-badge-foreground': '#f8f8f8',
  },
  light: {
    '--vscode-editor-foreground': '#3b3b3b', '--vscode-editor-background': '#ffffff', '--vscode-descriptionForeground': '#717171',
    '--vscode-charts-blue': '#1a85ff', '--vscode-charts-red': '#e51400', '--vscode-charts-green': '#388a34',
    '--vscode-charts-orange': '#d18616', '--vscode-charts-purple': '#652d90', '--vscode-charts-yellow': '#bf8803',
    '--vscode-font-family': 'DejaVu Sans, sans-serif', '--vscode-editor-font-family': 'DejaVu Sans Mono, monospace', '--vscode-font-size': '13px',
    '--vscode-foreground': '#3b3b3b', '--vscode-focusBorder': '#005fb8', '--vscode-widget-border': '#e5e5e5',
    '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b',
    '--vscode-checkbox-background': '#f8f8f8', '--vscode-checkbox-border': '#cecece', '--vscode-checkbox-foreground': '#3b3b3b',
    '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-border': '#cecece', '--vscode-dropdown-foreground': '#3b3b3b', '--vscode-dropdown-listBackground': '#ffffff',
    '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#3b3b3b', '--vscode-input-placeholderForeground': '#767676',
    '--vscode-panelTitle-activeForeground': '#3b3b3b', '--vscode-panelTitle-inactiveForeground': '#3b3b3b', '--vscode-panelTitle-activeBorder': '#005fb8',
    '--vscode-panel-border': '#e5e5e5', '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b',
  },
} as const;
export type ThemeName = keyof typeof THEMES;

function themeScript(theme: ThemeName): string {
  return `window.__specvetSetTheme = function (name, vars) {
  document.body.classList.remove('vscode-dark', 'vscode-light');
  for (var k in vars) document.documentElement.style.setProperty(k, vars[k]);
  document.body.classList.add('vscode-' + name);
};
window.__specvetSetTheme(${JSON.stringify(theme)}, ${JSON.stringify(THEMES[theme])});`;
}

function pageHtml(theme: ThemeName, title: string): string {
  const html = fitsViewerHtml({
    cspSource: ORIGIN,
    scriptUri: `${ORIGIN}/dist/webview/fits.js`,
    styleUri: `${ORIGIN}/dist/webview/fits.css`,
    nonce: NONCE,
    title,
  });
  // VS Code sets the theme class and variables before the page's own script runs.
  return html.replace('<div id="app"', `<script nonce="${NONCE}">${themeScript(theme)}</script>\n<div id="app"`);
}

/** Typed arrays cannot cross page.evaluate as such: ship them as base64 and rebuild them in the page. */
function encode(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    const v = value as Float64Array;
    return { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

export interface ViewerOptions {
  theme?: ThemeName;
  /** View state as `getState()` returns it when VS Code recreates a hidden webview. */
  state?: unknown;
  viewport?: { width: number; height: number };
}

export class Viewer {
  readonly fromWebview: WebviewToHostMessage[] = [];
  readonly consoleErrors: string[] = [];
  readonly cspViolations: string[] = [];
  savedState: unknown = undefined;
  private file: SpectrumFile | null = null;
  private fileName = '';
  private openedAt = Date.now();
  private loadError: unknown = null;
  /** Set by loadSynthetic: messages to answer `ready`/`getSpectrum` with instead of a file. */
  private synthetic: { file: FileLoadedMessage; spectra: SpectrumMessage[] } | null = null;

  private constructor(readonly page: Page, private readonly launched: LaunchedBrowser) {}

  static async open(opts: ViewerOptions = {}): Promise<Viewer> {
    const launched = await launchChromium({ viewport: opts.viewport ?? { width: 1280, height: 760 } });
    const page = launched.context.pages()[0] ?? (await launched.context.newPage());
    const viewer = new Viewer(page, launched);
    await launched.context.route(`${ORIGIN}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/index.html') {
        return route.fulfill({ status: 200, contentType: 'text/html', body: pageHtml(opts.theme ?? 'dark', viewer.fileName || 'spectrum') });
      }
      const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '');
      const abs = path.join(repoRoot, rel);
      const allowed = ['dist', 'media'].some((d) => abs.startsWith(path.join(repoRoot, d) + path.sep));
      if (!allowed || !fs.existsSync(abs)) return route.fulfill({ status: 404, body: 'not found' });
      const type = abs.endsWith('.js') ? 'text/javascript' : abs.endsWith('.css') ? 'text/css' : abs.endsWith('.png') ? 'image/png' : 'application/octet-stream';
      return route.fulfill({ status: 200, contentType: type, body: fs.readFileSync(abs) });
    });
    page.on('console', (m) => { if (m.type() === 'error') viewer.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => viewer.consoleErrors.push(`pageerror: ${e.message}`));
    await page.exposeBinding('__specvetToHost', (_src, msg: WebviewToHostMessage) => viewer.receive(msg));
    await page.exposeBinding('__specvetSetState', (_src, s: unknown) => { viewer.savedState = s; });
    await page.exposeBinding('__specvetCsp', (_src, text: string) => { viewer.cspViolations.push(text); });
    await page.addInitScript((initial) => {
      let state = initial;
      document.addEventListener('securitypolicyviolation', (e: any) => (window as any).__specvetCsp(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`));
      (window as any).acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => (window as any).__specvetToHost(m),
        getState: () => state,
        setState: (s: unknown) => { state = s; (window as any).__specvetSetState(s); },
      });
      (window as any).__specvetDeliver = (encoded: unknown) => {
        const decode = (v: any): any => {
          if (v && typeof v === 'object' && typeof v.__typed === 'string') {
            const bin = atob(v.b64);
            const bytes = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
            const Ctor = (globalThis as any)[v.__typed];
            return new Ctor(bytes.buffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
          }
          if (Array.isArray(v)) return v.map(decode);
          if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
          return v;
        };
        window.postMessage(decode(encoded), '*');
      };
    }, opts.state);
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
    await this.page.goto(`${ORIGIN}/index.html`);
  }

  /** Load generated data (benchmarks): the host answers with these messages instead of reading a file. */
  async loadSynthetic(file: FileLoadedMessage, spectra: SpectrumMessage[]): Promise<void> {
    this.fileName = file.fileName;
    this.file = null;
    this.synthetic = { file, spectra };
    await this.page.goto(`${ORIGIN}/index.html`);
  }

  /** Post a host message into the webview (typed arrays preserved). */
  async send(msg: HostToWebviewMessage): Promise<void> {
    await this.page.evaluate((m) => (window as any).__specvetDeliver(m), encode(msg));
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
  async waitForReport(pred: (r: RenderReport) => boolean, timeoutMs = 10_000, what = 'render report'): Promise<RenderReport> {
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

  async waitForNextReport(after: number, pred: (r: RenderReport) => boolean = () => true, timeoutMs = 10_000): Promise<RenderReport> {
    const start = Date.now();
    for (;;) {
      const hit = this.reports.slice(after).reverse().find(pred);
      if (hit) return hit;
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for a new render report; last: ${JSON.stringify(this.reports.at(-1))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async setTheme(name: ThemeName): Promise<void> {
    await this.page.evaluate(([n, vars]) => (window as any).__specvetSetTheme(n, vars), [name, THEMES[name]] as const);
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

  async close(): Promise<void> {
    await this.launched.close();
  }
}
