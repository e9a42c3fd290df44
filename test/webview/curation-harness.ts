// Headless-Chromium harness for the trace curation page: serves the BUILT bundle
// (dist/webview/curation.js) in the page and CSP the extension uses, shims acquireVsCodeApi, and
// plays the host's part with the host's own document model and message builders
// (src/extension/curation/traceFile.ts) on real trace files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { errorMessage } from '../../src/core/errors';
import { locateTraceSpectrum } from '../../src/core/trace/locate';
import { TraceFile, curationTraceMessage, toTraceEdit } from '../../src/extension/curation/traceFile';
import { fitsViewerHtml } from '../../src/extension/webviewHtml';
import type { CurationViewReport, HostToWebviewMessage, WebviewToHostMessage } from '../../src/shared/protocol';
import { launchChromium, type LaunchedBrowser } from '../support/chromium';
import { fixture, repoRoot } from '../support/paths';
import { THEMES, type ThemeName } from './harness';

declare const document: any;
declare const window: any;

const ORIGIN = 'https://specvet.test';
const NONCE = 'curationNonce0123456789abcdefABC';

function encode(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    const v = value as Uint8Array;
    return { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

export interface CuratorOptions {
  theme?: ThemeName;
  state?: unknown;
  viewport?: { width: number; height: number };
}

export class CuratorPage {
  readonly fromWebview: WebviewToHostMessage[] = [];
  readonly consoleErrors: string[] = [];
  readonly cspViolations: string[] = [];
  file: TraceFile = TraceFile.parse(new Uint8Array(0));
  fileName = 'traces.jsonl';
  dirty = false;
  /** Edits the page asked for, with the host's answer. */
  readonly edits: Array<{ op: string; error: string | null }> = [];

  private constructor(readonly page: Page, private readonly launched: LaunchedBrowser, private readonly theme: ThemeName) {}

  static async open(opts: CuratorOptions = {}): Promise<CuratorPage> {
    const launched = await launchChromium({ viewport: opts.viewport ?? { width: 1400, height: 860 } });
    const page = launched.context.pages()[0] ?? (await launched.context.newPage());
    const p = new CuratorPage(page, launched, opts.theme ?? 'dark');
    await launched.context.route(`${ORIGIN}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: p.html() });
      const abs = path.join(repoRoot, decodeURIComponent(url.pathname).replace(/^\/+/, ''));
      if (!abs.startsWith(path.join(repoRoot, 'dist') + path.sep) || !fs.existsSync(abs)) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, contentType: abs.endsWith('.js') ? 'text/javascript' : abs.endsWith('.css') ? 'text/css' : 'application/octet-stream', body: fs.readFileSync(abs) });
    });
    page.on('console', (m) => { if (m.type() === 'error') p.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => p.consoleErrors.push(`pageerror: ${e.message}`));
    await page.exposeBinding('__specvetToHost', (_src, msg: WebviewToHostMessage) => p.receive(msg));
    await page.exposeBinding('__specvetCsp', (_src, text: string) => { p.cspViolations.push(text); });
    await page.addInitScript((initial) => {
      let state = initial;
      document.addEventListener('securitypolicyviolation', (e: any) => window.__specvetCsp(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
      window.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => window.__specvetToHost(m),
        getState: () => state,
        setState: (s: unknown) => { state = s; },
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
    return p;
  }

  private html(): string {
    const html = fitsViewerHtml({ cspSource: ORIGIN, scriptUri: `${ORIGIN}/dist/webview/curation.js`, styleUri: `${ORIGIN}/dist/webview/curation.css`, nonce: NONCE, title: this.fileName });
    const vars = THEMES[this.theme];
    const theme = `document.body.classList.add('vscode-${this.theme}');for (const [k, v] of Object.entries(${JSON.stringify(vars)})) document.documentElement.style.setProperty(k, v);`;
    return html.replace('<div id="app"', `<script nonce="${NONCE}">${theme}</script>\n<div id="app"`);
  }

  /** Open trace-file bytes as the host would, then show the page. */
  async load(bytes: Uint8Array, fileName = 'traces.jsonl'): Promise<void> {
    this.file = TraceFile.parse(bytes);
    this.fileName = fileName;
    this.dirty = false;
    await this.page.goto(`${ORIGIN}/index.html`);
  }

  private closed = false;

  async send(msg: HostToWebviewMessage): Promise<void> {
    try {
      await this.page.evaluate((m) => window.__specvetDeliver(m), encode(msg));
    } catch (err) {
      if (!this.closed) throw err; // a reply still in flight when the test closed the page is dropped, as VS Code drops it
    }
  }

  private documentMessage(): HostToWebviewMessage {
    return this.file.documentMessage(this.fileName, this.dirty, (e) => this.file.lines[e].kind === 'trace' && (this.file.lines[e] as { edited: boolean }).edited);
  }

  private receive(msg: WebviewToHostMessage): void {
    this.fromWebview.push(msg);
    switch (msg.type) {
      case 'curation.ready': {
        void this.send(this.documentMessage()).then(() => {
          const entries = this.file.traceEntries;
          const first = msg.entry !== null && entries.includes(msg.entry) ? msg.entry : entries[0];
          if (first !== undefined) return this.send(curationTraceMessage(this.file, this.fileName, first));
        });
        return;
      }
      case 'curation.getTrace':
        try {
          void this.send(curationTraceMessage(this.file, this.fileName, msg.entry, msg.requestId));
        } catch (err) {
          void this.send({ type: 'curation.editResult', requestId: msg.requestId, ok: false, error: errorMessage(err) });
        }
        return;
      case 'curation.edit': {
        let error: string | null = null;
        try {
          const trace = this.file.trace(msg.entry);
          const { edit } = toTraceEdit(trace, msg.edit, (t) => locateTraceSpectrum(t, null, [path.dirname(fixture('truth.json'))]).spectrum);
          this.file.apply(msg.entry, msg.traceId, edit, new Date().toISOString());
          this.dirty = true;
        } catch (err) {
          error = errorMessage(err);
        }
        this.edits.push({ op: msg.edit.op, error });
        // As the host does: the new list and trajectory first, then the reply.
        const entry = msg.entry;
        const requestId = msg.requestId;
        void (async () => {
          if (!error) {
            await this.send(this.documentMessage());
            await this.send(curationTraceMessage(this.file, this.fileName, entry));
          }
          await this.send({ type: 'curation.editResult', requestId, ok: error === null, error });
        })();
        return;
      }
      default:
        return;
    }
  }

  get reports(): CurationViewReport[] {
    return this.fromWebview.filter((m) => m.type === 'curation.report').map((m) => (m as { report: CurationViewReport }).report);
  }

  async waitFor(pred: (r: CurationViewReport) => boolean, what = 'curation report', timeoutMs = 10_000): Promise<CurationViewReport> {
    const start = Date.now();
    for (;;) {
      const last = this.reports.at(-1);
      if (last && pred(last)) return last;
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; last report: ${JSON.stringify(last, (k, v) => (k === 'thinkTexts' ? undefined : v))}; console: ${this.consoleErrors.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  async screenshot(file: string): Promise<string> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file });
    return file;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.launched.close();
  }
}
