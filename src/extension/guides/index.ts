// Guide authoring in VS Code: the `specvet-guide` language (grammar, snippets and configuration are
// contributed in package.json), live diagnostics, hovers on line names, CodeLens actions, folding of
// the front matter and sections, and the guide commands. One call from extension.ts registers it all.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { lineNameAt, lineNameCompletions, lineNameHoverMarkdown, wavelengthAt, wavelengthHoverMarkdown } from '../../core/guides/line-names';
import { registerGuideCommands, openSpectrumUris } from './commands';
import { GUIDE_LANGUAGE_ID, registerGuideDiagnostics } from './diagnostics';
import { guideFoldingRanges } from './folding';

const SELECTOR: vscode.DocumentSelector = [{ language: GUIDE_LANGUAGE_ID }];

export function registerGuideLanguage(context: vscode.ExtensionContext, log: vscode.OutputChannel): void {
  registerGuideDiagnostics(context);
  registerGuideCommands(context, log);
  const lenses = new GuideCodeLensProvider();
  context.subscriptions.push(
    vscode.languages.registerHoverProvider(SELECTOR, { provideHover }),
    vscode.languages.registerCodeLensProvider(SELECTOR, lenses),
    vscode.window.tabGroups.onDidChangeTabs(() => lenses.refresh()),
    vscode.languages.registerFoldingRangeProvider(SELECTOR, { provideFoldingRanges }),
    vscode.languages.registerCompletionItemProvider(SELECTOR, { provideCompletionItems }),
    lenses,
  );
}

function provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | null {
  const line = doc.lineAt(pos.line).text;
  const m = lineNameAt(line, pos.character);
  if (m) return new vscode.Hover(new vscode.MarkdownString(lineNameHoverMarkdown(m)), new vscode.Range(pos.line, m.start, pos.line, m.end));
  const w = wavelengthAt(line, pos.character);
  if (w) return new vscode.Hover(new vscode.MarkdownString(wavelengthHoverMarkdown(w)), new vscode.Range(pos.line, w.start, pos.line, w.end));
  return null;
}

const COMPLETIONS = lineNameCompletions();

/** Line and band names with their wavelengths: in the body, and in window labels of the front matter. */
function provideCompletionItems(doc: vscode.TextDocument, pos: vscode.Position): vscode.CompletionItem[] {
  const lines = Array.from({ length: Math.min(doc.lineCount, pos.line + 1) }, (_, i) => doc.lineAt(i).text);
  const inFrontMatter = /^\uFEFF?---\s*$/.test(lines[0] ?? '') && pos.line > 0 && !lines.slice(1, pos.line).some((l) => /^---\s*$/.test(l));
  if (pos.line === 0 && /^---/.test(lines[0] ?? '')) return [];
  if (inFrontMatter && !/^\s*(?:-\s+)?label\s*:/.test(lines[pos.line])) return [];
  const word = doc.getWordRangeAtPosition(pos, /[\p{L}₀-₉\d\[\]]+/u);
  return COMPLETIONS.map((c) => {
    const item = new vscode.CompletionItem({ label: c.label, description: c.detail }, vscode.CompletionItemKind.Constant);
    item.insertText = c.insertText;
    item.filterText = c.filterText;
    item.detail = c.detail;
    if (word) item.range = word;
    return item;
  });
}

/** Lenses on the first line: run on each spectrum open beside the guide, run on a folder, preview, compare with HEAD. */
class GuideCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses: vscode.CodeLens[] = [];
    const spectra = openSpectrumUris().slice(0, 3);
    for (const u of spectra) lenses.push(new vscode.CodeLens(top, { title: `$(play) Run on ${path.basename(u.fsPath)}`, command: 'specvet.guide.runOnSpectrum', arguments: [doc.uri, u] }));
    if (!spectra.length) lenses.push(new vscode.CodeLens(top, { title: '$(play) Run on a spectrum…', command: 'specvet.guide.runOnSpectrum', arguments: [doc.uri] }));
    lenses.push(
      new vscode.CodeLens(top, { title: '$(folder) Run on folder…', command: 'specvet.guide.runOnFolder', arguments: [doc.uri] }),
      new vscode.CodeLens(top, { title: '$(preview) Preview prompt', command: 'specvet.guide.previewPrompt', arguments: [doc.uri, spectra[0]] }),
      new vscode.CodeLens(top, { title: '$(git-compare) Compare…', command: 'specvet.guide.compare', arguments: [doc.uri] }),
    );
    return lenses;
  }
}

function provideFoldingRanges(doc: vscode.TextDocument): vscode.FoldingRange[] {
  const lines = Array.from({ length: doc.lineCount }, (_, i) => doc.lineAt(i).text);
  return guideFoldingRanges(lines).map((r) => new vscode.FoldingRange(r.start, r.end, r.kind === 'region' ? vscode.FoldingRangeKind.Region : undefined));
}
