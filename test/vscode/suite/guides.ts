// Extension-host tests of guide authoring and export, in the real VS Code: the language is picked for
// *.guide.md, diagnostics follow edits, hovers and CodeLenses answer, and the guide commands run the
// real loop (scripted inspector, offline) on real fixtures and export the result.
// Registered by the suite runner (index.ts) through `guideCases`.
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { answerText, startVllmServer, thinkText, toolCallText } from '../../support/vllm-server';
import { caseAdder, requestScreenshot, until, workspaceFolder, type Case } from './harness';

export const guideCases: Case[] = [];
const test = caseAdder(guideCases, 'guides: ', 60_000);
const folder = workspaceFolder;

/** A screenshot of the workbench (no-op when no runner listens): evidence for docs/guide-authoring.md. */
async function screenshot(name: string, settleMs = 600): Promise<void> {
  await requestScreenshot(name, settleMs);
}

const GUIDE = `---
id: test-giant
version: "1"
target: M Giant Star
question: Is this an M giant?
answers: [YES, NO]
surveys: [LAMOST, SDSS]
windows:
  - range: [7000, 7700]
    label: TiO 7054 and 7589 Å
---
**Key Visual Indicators:**
- TiO band heads; Hα 6563 weak; Na I 8183/8195 weak in giants.
`;

function writeGuide(name: string, text: string): vscode.Uri {
  const file = path.join(folder(), name);
  fs.writeFileSync(file, text);
  return vscode.Uri.file(file);
}

test('a *.guide.md file opens in the specvet-guide language', async () => {
  const uri = writeGuide('giant.guide.md', GUIDE);
  const doc = await vscode.workspace.openTextDocument(uri);
  assert.equal(doc.languageId, 'specvet-guide');
  await vscode.window.showTextDocument(doc);
  assert.deepEqual(vscode.languages.getDiagnostics(uri), []);
});

test('diagnostics as you type: a reversed range is an error on its line, fixed by the next edit', async () => {
  const uri = writeGuide('typing.guide.md', GUIDE);
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc);
  const line = doc.getText().split('\n').findIndex((l) => l.includes('range: [7000, 7700]'));
  const col = doc.lineAt(line).text.indexOf('7000');
  await editor.edit((e) => e.replace(new vscode.Range(line, col, line, col + 4), '7800'));
  const diags = await until('an error', () => vscode.languages.getDiagnostics(uri), (d) => d.some((x) => x.severity === vscode.DiagnosticSeverity.Error));
  const err = diags.find((x) => x.severity === vscode.DiagnosticSeverity.Error)!;
  assert.match(err.message, /reversed/);
  assert.equal(err.range.start.line, line);
  assert.equal(err.source, 'specvet guide');
  editor.selection = new vscode.Selection(line, col, line, col);
  await vscode.commands.executeCommand('workbench.actions.view.problems');
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('editor.action.showHover');
  await screenshot('vscode-guide-diagnostics');
  await vscode.window.activeTextEditor!.edit((e) => e.replace(new vscode.Range(line, col, line, col + 4), '7000'));
  await until('no diagnostics', () => vscode.languages.getDiagnostics(uri), (d) => d.length === 0);
  const active = vscode.window.activeTextEditor!;
  await active.edit((e) => e.replace(doc.lineAt(5).range, 'answers: [YES, MAYBE]'));
  const d2 = await until('answers error', () => vscode.languages.getDiagnostics(uri), (d) => d.length > 0);
  assert.equal(d2[0].range.start.line, 5);
  await active.edit((e) => e.replace(new vscode.Range(0, 0, doc.lineCount, 0), GUIDE));
  await doc.save();
  await until('no diagnostics after restoring', () => vscode.languages.getDiagnostics(uri), (d) => d.length === 0);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('hover on a line name shows air and vacuum wavelengths', async () => {
  const uri = writeGuide('hover.guide.md', GUIDE);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const line = doc.getText().split('\n').findIndex((l) => l.includes('Hα 6563'));
  const pos = new vscode.Position(line, doc.lineAt(line).text.indexOf('Hα') + 1);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos);
  const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
  assert.match(text, /\| Hα \| 6562\.8 \| 6564\.6 \|/, text);
  const editor = vscode.window.activeTextEditor!;
  editor.selection = new vscode.Selection(pos, pos);
  await vscode.commands.executeCommand('editor.action.showHover');
  await screenshot('vscode-guide-hover');
});

test('completion offers line names with their wavelengths in the body and in window labels, not on other keys', async () => {
  const uri = writeGuide('complete.guide.md', GUIDE + '- He\n');
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const labelOf = (i: vscode.CompletionItem) => (typeof i.label === 'string' ? i.label : i.label.label);
  const body = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(doc.lineCount - 2, 4));
  const he = body.items.find((i) => labelOf(i) === 'He II 4686');
  assert.ok(he, body.items.map(labelOf).slice(0, 20).join(', '));
  assert.equal(he.insertText, 'He II 4686 Å');
  assert.match(String(he.detail), /4687\.\d Å vacuum/);
  const labelLine = doc.getText().split('\n').findIndex((l) => l.includes('label: TiO'));
  const inLabel = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(labelLine, doc.lineAt(labelLine).text.length));
  assert.ok(inLabel.items.some((i) => labelOf(i) === 'TiO 7054'));
  const onKey = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(3, 3));
  assert.ok(!onKey.items.some((i) => labelOf(i) === 'Hα'), 'no line names on the target: line');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('CodeLens: run on the spectrum open beside the guide, on a folder, preview, compare', async () => {
  const uri = writeGuide('lens.guide.md', GUIDE);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  let lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
  const titles = () => lenses.map((l) => l.command?.title ?? '');
  assert.ok(titles().some((t) => t.includes('Run on folder')), titles().join(' | '));
  assert.ok(titles().some((t) => t.includes('Preview prompt')));
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(path.join(folder(), 'spec-55862-B6212_sp06-025.fits')), 'specvet.fitsViewer', vscode.ViewColumn.Beside);
  lenses = await until('a lens for the open spectrum', () => vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri), (l) => l.some((x) => x.command?.title.includes('spec-55862-B6212_sp06-025.fits') ?? false));
  const run = lenses.find((l) => l.command?.title.includes('spec-55862'))!;
  assert.equal(run.command!.command, 'specvet.guide.runOnSpectrum');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('Preview prompt: the overview image and the task text with their sizes, in a webview beside the guide', async () => {
  const uri = writeGuide('preview.guide.md', GUIDE);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  const p = await vscode.commands.executeCommand<any>('specvet.guide.previewPrompt', uri, vscode.Uri.file(path.join(folder(), 'spec-55862-B6212_sp06-025.fits')));
  assert.ok(p, 'the command returned the preview');
  assert.deepEqual(p.parts.map((x: any) => `${x.role}:${x.kind}`), ['system:text', 'user:image', 'user:text', 'tools:text']);
  assert.ok(p.totals.imageTokens > 400 && p.requestBytes > p.totals.imageBytes);
  const tab = await until('the preview tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label.startsWith('Prompt: test-giant')), (t) => !!t);
  assert.ok(tab);
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await screenshot('vscode-guide-preview', 6000);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('Run guide on a spectrum (scripted inspector): a trace is appended and returned', async () => {
  const uri = writeGuide('run.guide.md', GUIDE);
  const traces = path.join(folder(), 'guide-run.jsonl');
  const r = await vscode.commands.executeCommand<any>('specvet.guide.runOnSpectrum', uri, vscode.Uri.file(path.join(folder(), 'spSpec-52999-1307-323.fit')), { endpoint: 'scripted', tracesFile: traces });
  assert.equal(r.traces.length, 1);
  assert.equal(r.traces[0].status, 'scripted');
  assert.equal(r.traces[0].line, 1);
  const line = JSON.parse(fs.readFileSync(traces, 'utf8').split('\n')[0]);
  assert.equal(line.guide.id, 'test-giant');
  assert.equal(line.steps.filter((s: any) => s.kind === 'tool_result').length, 1);
});

test('Run guide on a spectrum with the endpoint from the settings (vLLM-like server): a verdict, traces in the traces folder', async () => {
  const server = await startVllmServer({
    policy: ({ turn }) => (turn === 0 ? { content: thinkText('TiO first.') + toolCallText([7000, 7700], 'TiO') } : { content: thinkText('Deep TiO heads.') + answerText('YES') }),
  });
  const cfg = vscode.workspace.getConfiguration('specvet');
  try {
    await cfg.update('endpoint.url', server.baseUrl, vscode.ConfigurationTarget.Workspace);
    await cfg.update('endpoint.model', 'spec-o3-7b', vscode.ConfigurationTarget.Workspace);
    const uri = writeGuide('settings-run.guide.md', GUIDE);
    const r = await vscode.commands.executeCommand<any>('specvet.guide.runOnSpectrum', uri, vscode.Uri.file(path.join(folder(), 'spec-55862-B6212_sp06-025.fits')), {});
    assert.equal(r.traces[0].verdict, 'YES');
    assert.equal(r.traces[0].status, 'answered');
    assert.equal(r.tracesFile, path.join(folder(), '.specvet/traces/guide-test-giant.jsonl'));
    const chat = server.chatRequests();
    assert.equal(chat.length, 2);
    assert.equal(chat[0].body.model, 'spec-o3-7b');
  } finally {
    await cfg.update('endpoint.url', undefined, vscode.ConfigurationTarget.Workspace);
    await cfg.update('endpoint.model', undefined, vscode.ConfigurationTarget.Workspace);
    await server.close();
  }
});

test('Compare guides against a vLLM-like endpoint: verdicts differ where the edited guide changes the answer; report with links', async () => {
  // The test model answers NO when the task text carries the edited guide's "(STRICT)" marker, YES otherwise.
  const server = await startVllmServer({
    policy: ({ turn, request }) => {
      if (turn === 0) return { content: thinkText('Check the TiO band heads first.') + toolCallText([7000, 7700], 'TiO 7054 and 7589 Å') };
      const strict = JSON.stringify(request.body.messages[1].content).includes('(STRICT)');
      return { content: thinkText(strict ? 'The stricter guide asks for both heads; one is weak.' : 'Both band heads are present.') + answerText(strict ? 'NO' : 'YES') };
    },
  });
  try {
    const a = writeGuide('cmp-a.guide.md', GUIDE);
    const b = writeGuide('cmp-b.guide.md', GUIDE.replace('version: "1"', 'version: "2"').replace('**Key Visual Indicators:**', '**Key Visual Indicators:** (STRICT)'));
    const out = path.join(folder(), 'cmp-out');
    const spectra = ['spec-55862-B6212_sp06-025.fits', 'spSpec-52999-1307-323.fit', 'sdss_dr18_0358-51818-0504.fits'].map((f) => path.join(folder(), f));
    const c = await vscode.commands.executeCommand<any>('specvet.guide.compare', a, b, spectra, { endpoint: { baseUrl: server.baseUrl, model: 'spec-o3-7b' }, outDir: out });
    assert.equal(c.total, 3);
    assert.equal(c.differences, 3);
    assert.deepEqual([c.a.verdicts.YES, c.b.verdicts.NO], [3, 3]);
    const report = fs.readFileSync(c.report, 'utf8');
    assert.match(report, /3 of 3 spectra differ/);
    assert.match(report, /\[a\.jsonl:\d\]/);
    assert.match(report, /\[b\.jsonl:\d\]/);
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(c.report));
    await vscode.commands.executeCommand('workbench.action.closePanel');
  await screenshot('vscode-guide-compare', 6000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  } finally {
    await server.close();
  }
}, 120_000);

test('Export for fine-tuning: a scripted skeleton is skipped; once answered and approved it is exported', async () => {
  const traces = path.join(folder(), 'guide-run.jsonl');
  const out = path.join(folder(), 'sft-out');
  let r = await vscode.commands.executeCommand<any>('specvet.exportSft', vscode.Uri.file(traces), undefined, { outDir: out, approvedOnly: false });
  assert.equal(r.records, 0);
  assert.match(r.skipped[0].reason, /final answer/);
  const t = JSON.parse(fs.readFileSync(traces, 'utf8').split('\n')[0]);
  t.messages.push({ role: 'assistant', content: '<think>\nTiO heads are deep.\n</think>\n<answer>\\boxed{YES}\n</answer>' });
  t.curation = { status: 'approved' };
  fs.appendFileSync(traces, JSON.stringify(t) + '\n');
  r = await vscode.commands.executeCommand<any>('specvet.exportSft', vscode.Uri.file(traces), undefined, { outDir: out, approvedOnly: true });
  assert.equal(r.records, 1);
  const records = JSON.parse(fs.readFileSync(path.join(out, 'specvet_sft.json'), 'utf8'));
  assert.equal(records[0].images.length, 2);
  assert.ok(records[0].images.every((p: string) => fs.existsSync(path.join(out, p))));
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'dataset_info.json'), 'utf8')).specvet_sft.formatting, 'sharegpt');
});
