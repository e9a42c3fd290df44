// Headless-Chromium harness for the trace curation page: the BUILT bundle (dist/webview/curation.js)
// in the extension's page and CSP (./webview-page.ts), with the harness playing the host's part with
// the host's own document model and message builders (src/extension/curation/traceFile.ts) on real
// trace files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../../src/core/errors';
import { locateTraceSpectrum } from '../../src/core/trace/locate';
import { TraceFile, curationTraceMessage, toTraceEdit } from '../../src/extension/curation/traceFile';
import type { CurationViewReport, HostToWebviewMessage, WebviewToHostMessage } from '../../src/shared/protocol';
import { fixture } from '../support/paths';
import { WebviewHarness, WebviewPage, type HarnessOptions } from './webview-page';

export class CuratorPage extends WebviewHarness {
  file: TraceFile = TraceFile.parse(new Uint8Array(0));
  fileName = 'traces.jsonl';
  dirty = false;
  /** Edits the page asked for, with the host's answer. */
  readonly edits: Array<{ op: string; error: string | null }> = [];

  private constructor(web: WebviewPage) {
    super(web);
  }

  static async open(opts: HarnessOptions = {}): Promise<CuratorPage> {
    let p: CuratorPage | undefined;
    const web = await WebviewPage.open({
      bundle: 'curation',
      theme: opts.theme ?? 'dark',
      viewport: opts.viewport ?? { width: 1400, height: 860 },
      state: opts.state,
      title: () => p?.fileName ?? 'traces.jsonl',
      receive: (msg) => p?.receive(msg),
    });
    p = new CuratorPage(web);
    return p;
  }

  /** Open trace-file bytes as the host would, then show the page. */
  async load(bytes: Uint8Array, fileName = 'traces.jsonl'): Promise<void> {
    this.file = TraceFile.parse(bytes);
    this.fileName = fileName;
    this.dirty = false;
    await this.web.show();
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

  async waitFor(pred: (r: CurationViewReport) => boolean, what = 'curation report', timeoutMs = 30_000): Promise<CurationViewReport> {
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
}
