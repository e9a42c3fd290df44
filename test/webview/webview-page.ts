// One headless-Chromium page standing in for a VS Code webview, shared by the FITS viewer and the
// curation harnesses: serves the BUILT bundles (dist/, media/) inside the extension's own HTML and
// CSP, sets the theme class and variables before the page's script runs (as VS Code does), shims
// acquireVsCodeApi, and carries host messages in (typed arrays preserved) and webview messages out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { fitsViewerHtml } from '../../src/extension/webviewHtml';
import type { HostToWebviewMessage, WebviewToHostMessage } from '../../src/shared/protocol';
import { launchChromium, type LaunchedBrowser } from '../support/chromium';
import { repoRoot } from '../support/paths';

// Page-side code below runs in the browser; these names exist there, not in Node's type world.
declare const document: any;
declare const window: any;

const ORIGIN = 'https://specvet.test';
const NONCE = 'harnessNonce0123456789abcdefABCD';

/** The theme variables VS Code injects (Dark Modern / Light Modern values). */
const THEMES = {
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

/** The extension's page for a bundle (dist/webview/<bundle>.js/.css), themed before its script runs. */
function pageHtml(bundle: string, theme: ThemeName, title: string): string {
  const html = fitsViewerHtml({
    cspSource: ORIGIN,
    scriptUri: `${ORIGIN}/dist/webview/${bundle}.js`,
    styleUri: `${ORIGIN}/dist/webview/${bundle}.css`,
    nonce: NONCE,
    title,
  });
  return html.replace('<div id="app"', `<script nonce="${NONCE}">${themeScript(theme)}</script>\n<div id="app"`);
}

/** Typed arrays cannot cross page.evaluate as such: ship them as base64 and rebuild them in the page. */
function encode(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    const v = value as Uint8Array;
    return { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

/** What a test may choose when it opens a harness. */
export interface HarnessOptions {
  theme?: ThemeName;
  /** View state as `getState()` returns it when VS Code recreates a hidden webview. */
  state?: unknown;
  viewport?: { width: number; height: number };
  /** Device pixels per CSS pixel (2 for a HiDPI screen); 1 by default. */
  deviceScaleFactor?: number;
}

export interface WebviewPageSetup {
  /** The bundle the page runs: dist/webview/<bundle>.js. */
  bundle: string;
  theme: ThemeName;
  viewport: { width: number; height: number };
  deviceScaleFactor?: number;
  /** View state as `getState()` returns it when VS Code recreates a hidden webview. */
  state?: unknown;
  /** The page title, read each time the page loads. */
  title: () => string;
  /** The host's side: every message the webview posts. */
  receive: (msg: WebviewToHostMessage) => void;
}

export class WebviewPage {
  readonly consoleErrors: string[] = [];
  readonly cspViolations: string[] = [];
  /** The last `setState` of the page. */
  savedState: unknown = undefined;
  private closed = false;

  private constructor(readonly page: Page, private readonly launched: LaunchedBrowser) {}

  static async open(opts: WebviewPageSetup): Promise<WebviewPage> {
    const launched = await launchChromium({ viewport: opts.viewport, deviceScaleFactor: opts.deviceScaleFactor });
    const page = launched.context.pages()[0] ?? (await launched.context.newPage());
    const web = new WebviewPage(page, launched);
    await launched.context.route(`${ORIGIN}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/index.html') {
        return route.fulfill({ status: 200, contentType: 'text/html', body: pageHtml(opts.bundle, opts.theme, opts.title()) });
      }
      const abs = path.join(repoRoot, decodeURIComponent(url.pathname).replace(/^\/+/, ''));
      const allowed = ['dist', 'media'].some((d) => abs.startsWith(path.join(repoRoot, d) + path.sep));
      if (!allowed || !fs.existsSync(abs)) return route.fulfill({ status: 404, body: 'not found' });
      const type = abs.endsWith('.js') ? 'text/javascript' : abs.endsWith('.css') ? 'text/css' : abs.endsWith('.png') ? 'image/png' : 'application/octet-stream';
      return route.fulfill({ status: 200, contentType: type, body: fs.readFileSync(abs) });
    });
    page.on('console', (m) => { if (m.type() === 'error') web.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => web.consoleErrors.push(`pageerror: ${e.message}`));
    await page.exposeBinding('__specvetToHost', (_src, msg: WebviewToHostMessage) => opts.receive(msg));
    await page.exposeBinding('__specvetSetState', (_src, s: unknown) => { web.savedState = s; });
    await page.exposeBinding('__specvetCsp', (_src, text: string) => { web.cspViolations.push(text); });
    await page.addInitScript((initial) => {
      let state = initial;
      document.addEventListener('securitypolicyviolation', (e: any) => window.__specvetCsp(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`));
      window.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => window.__specvetToHost(m),
        getState: () => state,
        setState: (s: unknown) => { state = s; window.__specvetSetState(s); },
      });
      window.__specvetDeliver = (encoded: unknown) => {
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
    return web;
  }

  /** (Re)load the page, as VS Code does when the editor opens. */
  async show(): Promise<void> {
    await this.page.goto(`${ORIGIN}/index.html`);
  }

  /** Post a host message into the webview (typed arrays preserved). */
  async send(msg: HostToWebviewMessage): Promise<void> {
    try {
      await this.page.evaluate((m) => window.__specvetDeliver(m), encode(msg));
    } catch (err) {
      if (!this.closed) throw err; // a reply still in flight when the test closed the page is dropped, as VS Code drops it
    }
  }

  async setTheme(name: ThemeName): Promise<void> {
    await this.page.evaluate(([n, vars]) => window.__specvetSetTheme(n, vars), [name, THEMES[name]] as const);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.launched.close();
  }
}

/** The part every harness shares: the page, what it logged, and the host's send and close. */
export abstract class WebviewHarness {
  /** Every message the webview posted, oldest first. */
  readonly fromWebview: WebviewToHostMessage[] = [];
  readonly page: Page;
  readonly consoleErrors: string[];
  readonly cspViolations: string[];

  protected constructor(protected readonly web: WebviewPage) {
    this.page = web.page;
    this.consoleErrors = web.consoleErrors;
    this.cspViolations = web.cspViolations;
  }

  /** Post a host message into the webview (typed arrays preserved). */
  async send(msg: HostToWebviewMessage): Promise<void> {
    await this.web.send(msg);
  }

  async close(): Promise<void> {
    await this.web.close();
  }
}
