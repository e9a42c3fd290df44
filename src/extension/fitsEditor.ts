// Read-only custom editor for FITS spectra: the host reads the file with the core reader and
// feeds the webview typed arrays over the shared protocol. Every failure becomes an in-editor
// error view; nothing here may throw into the extension host.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { readSpectrumFile } from '../core/spectrum/open';
import type { SpectrumFile } from '../core/spectrum/model';
import { SpecVetError, errorMessage } from '../core/errors';
import type {
  AgentWebviewToHostMessage,
  ErrorMessage,
  HostToWebviewMessage,
  RenderReport,
  SpectrumMessage,
  ViewCommand,
  WebviewToHostMessage,
} from '../shared/protocol';
import { fitsViewerHtml, makeNonce } from './webviewHtml';
import { errorToMessage, fileLoadedMessage, spectrumMessage } from './messages';

export const FITS_VIEW_TYPE = 'specvet.fitsViewer';

interface FitsDocumentState {
  file: SpectrumFile | null;
  error: SpecVetError | Error | null;
  /** Host clock when this read started: the first-paint measurement's origin. */
  openedAt: number;
  /** ms after openedAt when the bytes were read and parsed. */
  parsedMs: number;
}

type ReadBytes = { bytes: Uint8Array } | { error: SpecVetError };

/** Start reading a file's bytes (the I/O runs while the caller goes on); never rejects. */
function readBytes(uri: vscode.Uri): Promise<ReadBytes> {
  return Promise.resolve(vscode.workspace.fs.readFile(uri)).then(
    (bytes) => ({ bytes }),
    (err) => ({ error: new SpecVetError('io', `cannot read the file: ${errorMessage(err)}`, uri.fsPath || uri.path) }),
  );
}

/**
 * One opened FITS file: the parsed file, or the error that stopped it. Re-read when the file
 * changes on disk. Opening only starts reading the bytes; they are parsed by `load()`, which the
 * editor calls after it has set its page, because VS Code creates the webview only once the
 * document is open and the editor resolved (see FitsEditorProvider.resolveCustomEditor).
 */
export class FitsDocument implements vscode.CustomDocument {
  private state: FitsDocumentState;
  private loading: Promise<void> | null = null;
  private pendingBytes: Promise<ReadBytes> | null;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after the file changed on disk and was read again. */
  readonly onDidReload = this.changed.event;
  private watcher: vscode.FileSystemWatcher | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  private constructor(readonly uri: vscode.Uri, openedAt: number) {
    this.state = { file: null, error: null, openedAt, parsedMs: 0 };
    this.pendingBytes = readBytes(uri);
  }

  /** The parsed file; null before `load()` finished or when it failed (see `error`). */
  get file(): SpectrumFile | null { return this.state.file; }
  get error(): SpecVetError | Error | null { return this.state.error; }
  get openedAt(): number { return this.state.openedAt; }
  get parsedMs(): number { return this.state.parsedMs; }

  get fileName(): string {
    return this.uri.path.split('/').pop() || this.uri.path;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.reloadTimer);
    this.watcher?.dispose();
    this.changed.dispose();
  }

  /** Open `uri`: cheap, the bytes are being read when it returns; `load()` parses them. */
  static open(uri: vscode.Uri): FitsDocument {
    return new FitsDocument(uri, Date.now());
  }

  /** Parse the file (once; every later call returns the same promise). Never rejects. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const bytes = this.pendingBytes!; // set by the constructor, read here once
      this.pendingBytes = null;
      this.state = FitsDocument.parse(this.uri, this.state.openedAt, await bytes);
      this.watch();
    })();
    return this.loading;
  }

  private static async read(uri: vscode.Uri): Promise<FitsDocumentState> {
    const openedAt = Date.now();
    return FitsDocument.parse(uri, openedAt, await readBytes(uri));
  }

  private static parse(uri: vscode.Uri, openedAt: number, read: ReadBytes): FitsDocumentState {
    const done = (file: SpectrumFile | null, error: SpecVetError | Error | null): FitsDocumentState => ({ file, error, openedAt, parsedMs: Date.now() - openedAt });
    if ('error' in read) return done(null, read.error);
    try {
      const name = uri.path.split('/').pop() || uri.path;
      return done(readSpectrumFile(read.bytes, name), null);
    } catch (err) {
      return done(null, err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Files get re-downloaded or regenerated while open: read again (debounced) when they change. */
  private watch(): void {
    if (this.disposed || this.watcher) return;
    try {
      const dir = vscode.Uri.joinPath(this.uri, '..');
      this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, this.fileName), false, false, true);
    } catch {
      return; // a file system without watching: the editor simply does not auto-reload
    }
    const schedule = () => {
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => {
        void FitsDocument.read(this.uri).then((state) => {
          this.state = state;
          this.changed.fire();
        });
      }, 300);
    };
    this.watcher.onDidChange(schedule);
    this.watcher.onDidCreate(schedule);
  }
}

/** Built files' text, read once per build (by modification time) since every editor inlines them. */
class BundleTexts {
  private readonly cache = new Map<string, { mtimeMs: number; text: string }>();

  /** The file's text; undefined when it cannot be read (the page then fetches it by URI). */
  text(file: string): string | undefined {
    try {
      const mtimeMs = fs.statSync(file).mtimeMs;
      const hit = this.cache.get(file);
      if (hit && hit.mtimeMs === mtimeMs) return hit.text;
      const text = fs.readFileSync(file, 'utf8');
      this.cache.set(file, { mtimeMs, text });
      return text;
    } catch {
      return undefined;
    }
  }
}

function validIndex(index: unknown, file: SpectrumFile): index is number {
  return Number.isInteger(index) && (index as number) >= 0 && (index as number) < file.spectra.length;
}

/** An agent message from a FITS editor's webview (the trace panel); src/extension/agent handles it. */
export interface AgentWebviewMessageEvent {
  doc: FitsDocument;
  panel: vscode.WebviewPanel;
  msg: AgentWebviewToHostMessage;
}

export class FitsEditorProvider implements vscode.CustomReadonlyEditorProvider<FitsDocument> {
  private readonly agentMessages = new vscode.EventEmitter<AgentWebviewMessageEvent>();
  /** Messages of the trace panel (type `agent.*`), routed to the agent run manager. */
  readonly onAgentMessage = this.agentMessages.event;
  /** What each open editor's webview last reported, newest last (test hook and status). */
  private readonly reports = new Map<string, RenderReport>();
  private lastReportKey: string | null = null;
  private readonly panels = new Set<{ doc: FitsDocument; panel: vscode.WebviewPanel }>();
  /** The FITS editor the user touched last: view commands go there when none reports active yet. */
  private lastActive: vscode.WebviewPanel | null = null;
  /** Recent exceptions reported by webviews (also in the output channel). */
  readonly webviewErrors: string[] = [];
  /** The webview's first-paint bundle, inlined into each page. */
  private readonly bundles = new BundleTexts();
  /** Documents whose read error is in the output channel already (several editors may show one). */
  private readonly loggedErrors = new WeakSet<FitsDocument>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.OutputChannel,
  ) {}

  static register(context: vscode.ExtensionContext, log: vscode.OutputChannel): FitsEditorProvider {
    const provider = new FitsEditorProvider(context.extensionUri, log);
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(FITS_VIEW_TYPE, provider, {
        // Hidden editors drop their webview; the view state (zoom, toggles, spectrum) is kept by setState.
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
    );
    return provider;
  }

  openCustomDocument(uri: vscode.Uri): FitsDocument {
    // Only starts the read: VS Code creates the webview after this and resolveCustomEditor have
    // returned, so the parse runs after the page is set, while VS Code builds the webview.
    return FitsDocument.open(uri);
  }

  resolveCustomEditor(doc: FitsDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    const script = vscode.Uri.joinPath(dist, 'webview', 'fits.js');
    const style = vscode.Uri.joinPath(dist, 'webview', 'fits.css');
    webview.html = fitsViewerHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(script).toString(),
      styleUri: webview.asWebviewUri(style).toString(),
      nonce: makeNonce(),
      title: doc.fileName,
      inlineScript: this.bundles.text(script.fsPath),
      inlineStyle: this.bundles.text(style.fsPath),
    });
    const entry = { doc, panel };
    const htmlSetMs = Date.now() - doc.openedAt;
    this.panels.add(entry);
    let disposed = false;
    const post = (msg: HostToWebviewMessage) => {
      if (disposed) return;
      webview.postMessage(msg).then(undefined, (err) => this.log.appendLine(`[fits] postMessage failed: ${errorMessage(err)}`));
    };
    // Parse once the page is on its way, then send the file and its first spectrum at once, not
    // after the page's `ready` round trip: VS Code queues webview messages until the page has
    // loaded, and the page listens from its first line. VS Code drops that queue when it replaces
    // the page's document, so the page still says `ready` when nothing came by its load event
    // (and after every reload while hidden). The parse waits for a timer because the extension
    // host sends its messages (the HTML, this method's return) from a timer too: a parse in this
    // task would hold them back.
    setTimeout(() => void doc.load().then(() => {
      if (doc.error && !this.loggedErrors.has(doc)) {
        this.loggedErrors.add(doc);
        this.log.appendLine(`[fits] ${doc.fileName}: ${doc.error.message}`);
      }
      this.postFile(doc, post, { parsed: doc.parsedMs, htmlSet: htmlSetMs }, 0);
    }), 0);
    const sub = webview.onDidReceiveMessage((msg: WebviewToHostMessage) => {
      try {
        if (msg.type.startsWith('agent.')) return this.agentMessages.fire({ doc, panel, msg: msg as AgentWebviewToHostMessage });
        this.handleMessage(doc, msg, post);
      } catch (err) {
        this.log.appendLine(`[fits] ${doc.fileName}: ${errorMessage(err)}`);
      }
    });
    const reloadSub = doc.onDidReload(() => {
      this.log.appendLine(`[fits] ${doc.fileName} changed on disk: reloaded${doc.error ? ` (${doc.error.message})` : ''}`);
      post(doc.file ? { ...fileLoadedMessage(doc.file, doc.fileName, doc.openedAt), reloaded: true } : errorToMessage(doc.error, doc.fileName, null));
    });
    this.lastActive = panel;
    const viewSub = panel.onDidChangeViewState((e) => { if (e.webviewPanel.active) this.lastActive = e.webviewPanel; });
    panel.onDidDispose(() => {
      disposed = true;
      sub.dispose();
      viewSub.dispose();
      reloadSub.dispose();
      this.panels.delete(entry);
      if (this.lastActive === panel) this.lastActive = null;
      // A closed editor's last report must not be mistaken for a reopened one's.
      if (![...this.panels].some((p) => p.doc.uri.toString() === doc.uri.toString())) this.reports.delete(doc.uri.toString());
    });
  }

  /** Post the file (or its error) and spectrum `index` (the first when out of range). */
  private postFile(doc: FitsDocument, post: (m: HostToWebviewMessage) => void, hostPhases: Record<string, number>, index: number): void {
    if (!doc.file) {
      post(errorToMessage(doc.error, doc.fileName, null));
      return;
    }
    const f = doc.file;
    post(fileLoadedMessage(f, doc.fileName, doc.openedAt, { ...hostPhases, posted: Date.now() - doc.openedAt }));
    if (f.spectra.length) post(this.spectrumMessage(doc, validIndex(index, f) ? index : 0));
  }

  private handleMessage(doc: FitsDocument, msg: WebviewToHostMessage, post: (m: HostToWebviewMessage) => void): void {
    switch (msg.type) {
      case 'ready':
        void doc.load().then(() => this.postFile(doc, post, { parsed: doc.parsedMs, ready: Date.now() - doc.openedAt }, msg.spectrumIndex));
        return;
      case 'getSpectrum':
        post(this.spectrumMessage(doc, msg.index, msg.requestId));
        return;
      case 'rendered': {
        // (a report also tells which editor the user is looking at)
        const key = doc.uri.toString();
        this.reports.set(key, msg.report);
        this.lastReportKey = key;
        return;
      }
      case 'webviewError':
        this.log.appendLine(`[webview] ${doc.fileName}: ${msg.message}`);
        this.webviewErrors.push(`${doc.fileName}: ${msg.message}`);
        if (this.webviewErrors.length > 20) this.webviewErrors.shift();
        return;
    }
  }

  private spectrumMessage(doc: FitsDocument, index: number, requestId?: number): SpectrumMessage | ErrorMessage {
    if (!doc.file) return errorToMessage(doc.error, doc.fileName, null, requestId);
    const msg = spectrumMessage(doc.file, doc.fileName, index, requestId);
    if (msg.type === 'error') this.log.appendLine(`[fits] ${doc.fileName} spectrum ${index}: ${msg.message}`);
    return msg;
  }

  /** The FITS editor commands act on: the active one, else the last one the user touched. */
  activeEditor(): { doc: FitsDocument; panel: vscode.WebviewPanel } | null {
    const all = [...this.panels];
    return all.find((p) => p.panel.active) ?? all.find((p) => p.panel === this.lastActive) ?? all.find((p) => p.panel.visible) ?? null;
  }

  /** Every open editor panel showing `uri` (a document can be open in several). */
  panelsFor(uri: vscode.Uri): vscode.WebviewPanel[] {
    const key = uri.toString();
    return [...this.panels].filter((p) => p.doc.uri.toString() === key).map((p) => p.panel);
  }

  /** What the webview of `uri` (or the most recently reporting one) last showed. */
  lastRender(uri?: vscode.Uri): RenderReport | null {
    const key = uri ? uri.toString() : this.lastReportKey;
    return (key && this.reports.get(key)) || null;
  }

  /** Open FITS editors and their view state (test hook, diagnostics). */
  panelStates(): { panels: Array<{ uri: string; active: boolean; visible: boolean; lastActive: boolean }>; webviewErrors: string[] } {
    return {
      panels: [...this.panels].map((p) => ({ uri: p.doc.uri.toString(), active: p.panel.active, visible: p.panel.visible, lastActive: p.panel === this.lastActive })),
      webviewErrors: [...this.webviewErrors],
    };
  }

  /** Send a view command to the active FITS editor (or every visible one when none is active). */
  sendViewCommand(command: ViewCommand): boolean {
    // `active` lags behind the UI by a message round trip right after opening: fall back to the
    // last editor that became active, then to every visible one.
    let chosen = [...this.panels].filter((p) => p.panel.active);
    if (!chosen.length && this.lastActive) chosen = [...this.panels].filter((p) => p.panel === this.lastActive);
    if (!chosen.length) chosen = [...this.panels].filter((p) => p.panel.visible);
    for (const { panel } of chosen) void panel.webview.postMessage({ type: 'viewCommand', command } satisfies HostToWebviewMessage);
    return chosen.length > 0;
  }
}
