// Live diagnostics for guide files: validateGuide on every change (debounced), positioned as the core
// reports them, so the Problems view and the squiggles say exactly what the loop would reject.
import * as vscode from 'vscode';
import { validateGuide, type GuideDiagnostic } from '../../core/guides/guide';
import { lintWindowLabels } from '../../core/guides/lint';

export const GUIDE_LANGUAGE_ID = 'specvet-guide';
const DEBOUNCE_MS = 250;

const SEVERITY: Record<GuideDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function toVscodeDiagnostic(d: GuideDiagnostic): vscode.Diagnostic {
  const r = d.range;
  const range = new vscode.Range(r.line, r.col, r.endLine, r.endCol === r.col && r.endLine === r.line ? r.col + 1 : r.endCol);
  const diag = new vscode.Diagnostic(range, d.message, SEVERITY[d.severity]);
  diag.source = 'specvet guide';
  return diag;
}

export function isGuideDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === GUIDE_LANGUAGE_ID || doc.uri.path.endsWith('.guide.md');
}

export function registerGuideDiagnostics(context: vscode.ExtensionContext): vscode.DiagnosticCollection {
  const collection = vscode.languages.createDiagnosticCollection('specvet-guide');
  const timers = new Map<string, NodeJS.Timeout>();
  const update = (doc: vscode.TextDocument) => {
    if (!isGuideDocument(doc)) return;
    const text = doc.getText();
    const v = validateGuide(text, doc.uri.fsPath || doc.uri.toString());
    const lint = v.guide ? lintWindowLabels(text, v.guide.windows) : [];
    collection.set(doc.uri, [...v.diagnostics, ...lint].map(toVscodeDiagnostic));
  };
  const schedule = (doc: vscode.TextDocument) => {
    if (!isGuideDocument(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => {
      timers.delete(key);
      update(doc);
    }, DEBOUNCE_MS));
  };
  context.subscriptions.push(
    collection,
    vscode.workspace.onDidOpenTextDocument(update),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      clearTimeout(timers.get(doc.uri.toString()));
      timers.delete(doc.uri.toString());
      collection.delete(doc.uri);
    }),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );
  for (const doc of vscode.workspace.textDocuments) update(doc);
  return collection;
}
