// The trace curation editor (`specvet.traceCurator`, priority "option" for *.jsonl): a custom
// editor whose document is the trace file and whose edits go through VS Code's document model:
// every edit fires onDidChangeCustomDocument with undo/redo, so dirty state, Ctrl+Z, save, save as,
// revert and hot exit (backupCustomDocument writes the edit list; opening with a backupId replays
// it) all behave as in a text editor. Saving writes a temporary file beside the target, fsyncs and
// renames it (writeFileAtomic): a trace file is never half-written.
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../core/atomic-write';
import { SpecVetError, errorMessage } from '../../core/errors';
import type { TraceEdit } from '../../core/trace/edit';
import { locateTraceSpectrum } from '../../core/trace/locate';
import type { Trace } from '../../core/trace/schema';
import type { Spectrum } from '../../core/spectrum/model';
import type {
  CurationCommandMessage,
  CurationEditSpec,
  CurationViewReport,
  HostToWebviewMessage,
  WebviewToHostMessage,
} from '../../shared/protocol';
import { fitsViewerHtml, makeNonce } from '../webviewHtml';
import { BACKUP_SCHEMA, TraceFile, curationTraceMessage, parseBackup, toTraceEdit, type AppliedEdit, type BackupRecord, type CurationBackup } from './traceFile';

export const CURATION_VIEW_TYPE = 'specvet.traceCurator';

export class CurationDocument implements vscode.CustomDocument {
  /** Changes the webviews must show (edits, undo, redo, revert, save). */
  private readonly changed = new vscode.EventEmitter<{ entries: number[] | 'all' }>();
  readonly onDidChangeContent = this.changed.event;
  private readonly edits = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<CurationDocument>>();
  readonly onDidChangeCustomDocument = this.edits.event;
  /** The trace objects as last saved (or opened): an entry whose trace differs is "modified". */
  private saved = new Map<number, Trace>();
  /** Changes since the file on disk (what a backup must replay). */
  private sinceSave: BackupRecord[] = [];
  private dirty = false;
  /** Spectra found for forced zooms, by sha256#index. */
  private readonly spectra = new Map<string, Spectrum>();

  private constructor(
    readonly uri: vscode.Uri,
    public file: TraceFile,
  ) {
    this.rememberSaved();
  }

  get fileName(): string {
    return this.uri.path.split('/').pop() || this.uri.path;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  static async open(uri: vscode.Uri, backupId: string | undefined, log: vscode.OutputChannel): Promise<CurationDocument> {
    const bytes = await readBytes(uri);
    const doc = new CurationDocument(uri, TraceFile.parse(bytes));
    if (backupId) {
      // Hot exit: the file as on disk, then the changes that were not saved.
      const where = `backup of ${doc.fileName}`;
      try {
        const backup = parseBackup(new TextDecoder().decode(await readBytes(vscode.Uri.parse(backupId))), where);
        const { problems } = doc.file.restore(backup);
        doc.sinceSave = backup.records;
        doc.dirty = backup.records.length > 0;
        for (const p of problems) log.appendLine(`[curation] ${where}: ${p}`);
        if (problems.length) void vscode.window.showWarningMessage(`SpecVet: restoring unsaved curation of ${doc.fileName}: ${problems.join('; ')}`);
      } catch (err) {
        log.appendLine(`[curation] ${where}: ${errorMessage(err)}`);
        void vscode.window.showErrorMessage(`SpecVet: the unsaved curation of ${doc.fileName} could not be restored: ${errorMessage(err)}`);
      }
    }
    return doc;
  }

  private rememberSaved(): void {
    this.saved = new Map(this.file.traceEntries.map((e) => [e, this.file.trace(e)]));
  }

  isModified(entry: number): boolean {
    return this.file.lines[entry]?.kind === 'trace' && this.saved.get(entry) !== this.file.trace(entry);
  }

  /** Applies an edit, records it for undo/redo and backup, and tells VS Code (which marks the editor dirty). */
  applyEdit(entry: number, traceId: string, edit: TraceEdit, label: string): AppliedEdit {
    const applied = this.file.apply(entry, traceId, edit, new Date().toISOString());
    const record = { entry, traceId, edit, at: applied.at };
    this.sinceSave.push(record);
    this.dirty = true;
    this.changed.fire({ entries: [entry] });
    this.edits.fire({
      document: this,
      label,
      undo: () => {
        this.file.setTrace(entry, applied.before);
        // Undoing the newest unsaved edit drops it; undoing past a save records the trace to restore.
        if (this.sinceSave[this.sinceSave.length - 1] === record) this.sinceSave.pop();
        else this.sinceSave.push({ entry, traceId, at: new Date().toISOString(), set: applied.before });
        this.changed.fire({ entries: [entry] });
      },
      redo: () => {
        this.file.setTrace(entry, applied.after);
        this.sinceSave.push(record);
        this.changed.fire({ entries: [entry] });
      },
    });
    return applied;
  }

  /** The trace's spectrum, found beside the trace file or in the workspace and checked by sha256. */
  spectrumFor(trace: Trace): Spectrum {
    const key = `${trace.source.sha256}#${trace.source.index}`;
    const hit = this.spectra.get(key);
    if (hit) return hit;
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const found = locateTraceSpectrum(trace, this.uri.scheme === 'file' ? this.uri.fsPath : null, folders);
    this.spectra.set(key, found.spectrum);
    return found.spectrum;
  }

  /**
   * Follows the file on disk: lines appended by another writer join the list (edits kept); any
   * other change is reported. Returns what was found.
   */
  async syncWithDisk(): Promise<'same' | 'appended' | 'changed'> {
    const disk = await readBytes(this.uri);
    if (this.file.sameBytes(disk)) return 'same';
    const appended = this.file.appendedIn(disk);
    if (!appended) return 'changed';
    // Complete lines only: a writer may be in the middle of one (the rest comes with the next change).
    const tail = appended.subarray(0, appended.lastIndexOf(10) + 1);
    if (!tail.length) return 'same';
    const before = new Set(this.file.traceEntries);
    this.file = this.file.withAppended(tail);
    for (const e of this.file.traceEntries) if (!before.has(e)) this.saved.set(e, this.file.trace(e));
    this.changed.fire({ entries: 'all' });
    return 'appended';
  }

  async save(target: vscode.Uri = this.uri): Promise<void> {
    if (target.toString() === this.uri.toString() && (await this.syncWithDisk()) === 'changed') {
      // Never overwrite what another program changed: lines appended meanwhile are kept (above), anything else stops the save.
      throw new SpecVetError('io', 'the file was changed on disk since it was opened (not only appended to); saving would overwrite those changes. Use Save As… to keep your edits in another file, or Revert File to load the file as it is now', this.uri.fsPath || this.uri.toString());
    }
    const bytes = this.file.serialise();
    await writeBytes(target, bytes);
    if (target.toString() === this.uri.toString()) {
      this.file = TraceFile.parse(bytes);
      this.rememberSaved();
      this.sinceSave = [];
      this.dirty = false;
      this.changed.fire({ entries: 'all' });
    }
  }

  async revert(): Promise<void> {
    this.file = TraceFile.parse(await readBytes(this.uri));
    this.rememberSaved();
    this.sinceSave = [];
    this.dirty = false;
    this.changed.fire({ entries: 'all' });
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    const backup: CurationBackup = { schema: BACKUP_SCHEMA, baseSha256: this.file.sha256, records: this.sinceSave };
    await writeBytes(destination, new TextEncoder().encode(JSON.stringify(backup)));
    return {
      id: destination.toString(),
      delete: () => {
        void vscode.workspace.fs.delete(destination).then(undefined, () => undefined);
      },
    };
  }

  dispose(): void {
    this.changed.dispose();
    this.edits.dispose();
  }
}

async function readBytes(uri: vscode.Uri): Promise<Uint8Array> {
  try {
    return await vscode.workspace.fs.readFile(uri);
  } catch (err) {
    throw new SpecVetError('io', `cannot read the trace file: ${errorMessage(err)}`, uri.scheme === 'file' ? uri.fsPath : uri.toString());
  }
}

async function writeBytes(uri: vscode.Uri, bytes: Uint8Array): Promise<void> {
  // Local files: temp file in the same folder + fsync + rename. Other schemes: the file system provider's own write.
  if (uri.scheme === 'file') writeFileAtomic(uri.fsPath, bytes);
  else await vscode.workspace.fs.writeFile(uri, bytes);
}

export class CurationEditorProvider implements vscode.CustomEditorProvider<CurationDocument> {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<CurationDocument>>();
  readonly onDidChangeCustomDocument = this.changeEmitter.event;
  /** Open pages, with the trajectory each shows (it gets the new version after every change). */
  private readonly panels = new Set<{ doc: CurationDocument; panel: vscode.WebviewPanel; shown: number | null }>();
  private readonly reports = new Map<string, CurationViewReport>();
  /** Open documents by URI (the newest when VS Code briefly holds a closing and a reopened one). */
  private readonly documents = new Map<string, CurationDocument>();
  private lastActive: vscode.WebviewPanel | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.OutputChannel,
  ) {}

  static register(context: vscode.ExtensionContext, log: vscode.OutputChannel): CurationEditorProvider {
    const provider = new CurationEditorProvider(context.extensionUri, log);
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(CURATION_VIEW_TYPE, provider, {
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
      vscode.commands.registerCommand('specvet.curation.open', async (uri?: vscode.Uri) => {
        const target = uri ?? vscode.window.activeTextEditor?.document.uri;
        if (!target) {
          void vscode.window.showInformationMessage('SpecVet: choose a .jsonl trace file to curate.');
          return;
        }
        await vscode.commands.executeCommand('vscode.openWith', target, CURATION_VIEW_TYPE);
      }),
      ...(['next', 'previous', 'approve', 'reject', 'focusFilter'] as const).map((command) =>
        vscode.commands.registerCommand(`specvet.curation.${command}`, () => {
          const sent = provider.sendCommand(command);
          if (!sent) void vscode.window.showInformationMessage('SpecVet: open a trace file in the Trace Curator first.');
          return sent;
        }),
      ),
      // Test hooks: what the page shows, and an edit through the same path as the page's requests.
      vscode.commands.registerCommand('specvet._test.curationReport', (uri?: string) => provider.lastReport(uri)),
      vscode.commands.registerCommand('specvet._test.curationEdit', (uri: string, entry: number, edit: CurationEditSpec) => provider.editByUri(uri, entry, edit)),
      vscode.commands.registerCommand('specvet._test.curationTrace', (uri: string, entry: number) => provider.documentOf(uri)?.file.trace(entry) ?? null),
      vscode.commands.registerCommand('specvet._test.curationBackupRoundTrip', (uri: string, destination: string) => provider.backupRoundTrip(uri, destination)),
    );
    return provider;
  }

  async openCustomDocument(uri: vscode.Uri, context: vscode.CustomDocumentOpenContext): Promise<CurationDocument> {
    const doc = await CurationDocument.open(uri, context.backupId, this.log);
    const subs = [doc.onDidChangeCustomDocument((e) => this.changeEmitter.fire(e)), doc.onDidChangeContent((c) => this.broadcast(doc, c.entries))];
    const damaged = doc.file.damaged();
    if (damaged.length) this.log.appendLine(`[curation] ${doc.fileName}: ${damaged.length} damaged line(s) kept as they are: ${damaged.map((d) => `line ${d.line}: ${d.reason}`).join('; ')}`);
    const key = uri.toString();
    this.documents.set(key, doc);
    if (uri.scheme === 'file') subs.push(this.watchDisk(doc));
    const dispose = doc.dispose.bind(doc);
    doc.dispose = () => {
      for (const s of subs) s.dispose();
      if (this.documents.get(key) === doc) this.documents.delete(key);
      dispose();
    };
    return doc;
  }

  /** Lines appended on disk (a vet run writing to the file) join the open list; other changes reload a clean document or warn. */
  private watchDisk(doc: CurationDocument): vscode.Disposable {
    const dir = vscode.Uri.joinPath(doc.uri, '..');
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, doc.fileName));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let warned = false;
    const check = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void (async () => {
          const r = await doc.syncWithDisk();
          if (r === 'appended') this.log.appendLine(`[curation] ${doc.fileName}: new trajectories appended on disk were added to the list`);
          if (r !== 'changed') return;
          if (!doc.isDirty) await doc.revert();
          else if (!warned) {
            warned = true;
            void vscode.window.showWarningMessage(`SpecVet: ${doc.fileName} was changed on disk by another program while it has unsaved curation. Saving will refuse to overwrite it: use Save As… or Revert File.`);
          }
        })().catch((err) => this.log.appendLine(`[curation] ${doc.fileName}: ${errorMessage(err)}`));
      }, 250);
    };
    const subs = [watcher, watcher.onDidChange(check), watcher.onDidCreate(check)];
    return { dispose: () => { clearTimeout(timer); for (const s of subs) s.dispose(); } };
  }

  resolveCustomEditor(doc: CurationDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    webview.options = { enableScripts: true, localResourceRoots: [dist, vscode.Uri.joinPath(this.extensionUri, 'media')] };
    webview.html = fitsViewerHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'curation.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'curation.css')).toString(),
      nonce: makeNonce(),
      title: doc.fileName,
    });
    const entry: { doc: CurationDocument; panel: vscode.WebviewPanel; shown: number | null } = { doc, panel, shown: null };
    this.panels.add(entry);
    this.lastActive = panel;
    // A report belongs to a page: a new page starts without one (tests wait for the new page's).
    this.reports.delete(doc.uri.toString());
    const post = (msg: HostToWebviewMessage) => {
      webview.postMessage(msg).then(undefined, (err) => this.log.appendLine(`[curation] postMessage failed: ${errorMessage(err)}`));
    };
    const sub = webview.onDidReceiveMessage((msg: WebviewToHostMessage) => {
      void this.handleMessage(entry, msg, post).catch((err) => this.log.appendLine(`[curation] ${doc.fileName}: ${errorMessage(err)}`));
    });
    const viewSub = panel.onDidChangeViewState((e) => { if (e.webviewPanel.active) this.lastActive = e.webviewPanel; });
    panel.onDidDispose(() => {
      sub.dispose();
      viewSub.dispose();
      this.panels.delete(entry);
      if (this.lastActive === panel) this.lastActive = null;
    });
  }

  private async handleMessage(page: { doc: CurationDocument; panel: vscode.WebviewPanel; shown: number | null }, msg: WebviewToHostMessage, post: (m: HostToWebviewMessage) => void): Promise<void> {
    const { doc, panel } = page;
    switch (msg.type) {
      case 'curation.ready': {
        post(doc.file.documentMessage(doc.fileName, doc.isDirty, (e) => doc.isModified(e)));
        const entries = doc.file.traceEntries;
        const first = msg.entry !== null && entries.includes(msg.entry) ? msg.entry : entries[0];
        page.shown = first ?? null;
        if (first !== undefined) post(curationTraceMessage(doc.file, doc.fileName, first));
        return;
      }
      case 'curation.getTrace':
        try {
          page.shown = msg.entry;
          post(curationTraceMessage(doc.file, doc.fileName, msg.entry, msg.requestId));
        } catch (err) {
          post({ type: 'curation.editResult', requestId: msg.requestId, ok: false, error: errorMessage(err) });
        }
        return;
      case 'curation.edit': {
        const error = this.edit(doc, msg.entry, msg.traceId, msg.edit);
        post({ type: 'curation.editResult', requestId: msg.requestId, ok: error === null, error });
        return;
      }
      case 'curation.reopenAsText':
        await vscode.commands.executeCommand('vscode.openWith', doc.uri, 'default', panel.viewColumn);
        panel.dispose();
        return;
      case 'curation.report':
        this.reports.set(doc.uri.toString(), msg.report);
        return;
      case 'webviewError':
        this.log.appendLine(`[webview] ${doc.fileName}: ${msg.message}`);
        return;
      default:
        return; // the trace view's own messages (agent.ready, agent.report) need nothing here
    }
  }

  /** Applies an edit; returns null or what went wrong (said to the user by the page). */
  private edit(doc: CurationDocument, entry: number, traceId: string, spec: CurationEditSpec): string | null {
    try {
      const trace = doc.file.trace(entry);
      const { edit, label } = toTraceEdit(trace, spec, (t) => doc.spectrumFor(t));
      doc.applyEdit(entry, traceId, edit, label);
      return null;
    } catch (err) {
      const message = errorMessage(err);
      this.log.appendLine(`[curation] ${doc.fileName}: ${spec.op}: ${message}`);
      return message;
    }
  }

  /** Every panel of `doc` gets the new list and, for changed entries, the new trajectory. */
  private broadcast(doc: CurationDocument, entries: number[] | 'all'): void {
    const list = doc.file.documentMessage(doc.fileName, doc.isDirty, (e) => doc.isModified(e));
    for (const p of this.panels) {
      if (p.doc !== doc) continue;
      void p.panel.webview.postMessage(list);
      // The shown trajectory again when it may have changed (its edit, undo/redo, revert, a reload from disk).
      const e = p.shown;
      if (e === null || (entries !== 'all' && !entries.includes(e)) || doc.file.lines[e]?.kind !== 'trace') continue;
      try {
        void p.panel.webview.postMessage(curationTraceMessage(doc.file, doc.fileName, e));
      } catch (err) {
        this.log.appendLine(`[curation] ${doc.fileName}: ${errorMessage(err)}`);
      }
    }
  }

  saveCustomDocument(doc: CurationDocument): Thenable<void> {
    return doc.save();
  }

  saveCustomDocumentAs(doc: CurationDocument, destination: vscode.Uri): Thenable<void> {
    return doc.save(destination);
  }

  revertCustomDocument(doc: CurationDocument): Thenable<void> {
    return doc.revert();
  }

  backupCustomDocument(doc: CurationDocument, context: vscode.CustomDocumentBackupContext): Thenable<vscode.CustomDocumentBackup> {
    return doc.backup(context.destination);
  }

  /** Send a command to the active curator (or the last one the user touched). */
  sendCommand(command: CurationCommandMessage['command']): boolean {
    let chosen = [...this.panels].filter((p) => p.panel.active);
    if (!chosen.length && this.lastActive) chosen = [...this.panels].filter((p) => p.panel === this.lastActive);
    for (const { panel } of chosen) void panel.webview.postMessage({ type: 'curation.command', command } satisfies HostToWebviewMessage);
    return chosen.length > 0;
  }

  lastReport(uri?: string): CurationViewReport | null {
    if (uri) return this.reports.get(uri) ?? null;
    return [...this.reports.values()].pop() ?? null;
  }

  documentOf(uri: string): CurationDocument | undefined {
    return this.documents.get(uri);
  }

  /** Hot exit as VS Code drives it: back the document up, open it again from the backup; true when both hold the same bytes. */
  async backupRoundTrip(uri: string, destination: string): Promise<{ same: boolean; dirty: boolean; records: number }> {
    const doc = this.documentOf(uri);
    if (!doc) throw new Error(`no curator is open on ${uri}`);
    const backup = await this.backupCustomDocument(doc, { destination: vscode.Uri.file(destination) });
    const restored = await CurationDocument.open(doc.uri, backup.id, this.log);
    const same = Buffer.compare(Buffer.from(restored.file.serialise()), Buffer.from(doc.file.serialise())) === 0;
    const records = (JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.file(destination)))) as CurationBackup).records.length;
    restored.dispose();
    backup.delete();
    return { same, dirty: restored.isDirty, records };
  }

  editByUri(uri: string, entry: number, spec: CurationEditSpec): string | null {
    const doc = this.documentOf(uri);
    if (!doc) return `no curator is open on ${uri}`;
    return this.edit(doc, entry, doc.file.trace(entry).id, spec);
  }
}
