// Extension-host tests of the Trace Curator in the real VS Code: a real trace file (the agent loop
// against the vLLM-like server and the scripted inspector, on the workspace's real fixtures) opened
// with the custom editor, edits made through the page and the command path, undo/redo with VS Code's
// own commands, dirty state, save (atomic), revert, reopen, hot-exit backup, and the export round trip.
// Registered by the suite runner (index.ts) through `curationCases`.
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAgent } from '../../../src/core/agent/loop';
import { exportSft, rebuildMessages, trainingConversation, type SftRecord } from '../../../src/core/export/sft';
import { loadGuide } from '../../../src/core/guides/guide';
import { openSpectrumFile } from '../../../src/core/spectrum/open';
import { appendTrace, readTraceFile, traceLine } from '../../../src/core/trace/jsonl';
import type { Trace } from '../../../src/core/trace/schema';
import type { CurationViewReport } from '../../../src/shared/protocol';
import { startVllmServer, zoomThenAnswer } from '../../support/vllm-server';
import { caseAdder, requestScreenshot, sleep, until, workspaceFolder, type Case } from './harness';

export const curationCases: Case[] = [];
const test = caseAdder(curationCases, 'curation: ', 90_000);
const VIEW_TYPE = 'specvet.traceCurator';

const folder = workspaceFolder;

const report = async (uri: vscode.Uri) => (await vscode.commands.executeCommand<CurationViewReport | null>('specvet._test.curationReport', uri.toString())) ?? null;
const traceOf = async (uri: vscode.Uri, entry: number) => (await vscode.commands.executeCommand<Trace | null>('specvet._test.curationTrace', uri.toString(), entry)) ?? null;
const activeTabDirty = () => vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty ?? null;

async function screenshot(name: string): Promise<void> {
  await requestScreenshot(name, 800);
}

let traceFile = '';
let traces: Trace[] = [];

/** A trace file of real runs on the workspace's fixtures, plus a damaged line, written once. */
async function makeTraceFile(): Promise<vscode.Uri> {
  if (traceFile) return vscode.Uri.file(traceFile);
  const lamostFile = path.join(folder(), 'spec-55862-B6212_sp06-025.fits');
  const sdssFile = path.join(folder(), 'spSpec-52999-1307-323.fit');
  const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  const server = await startVllmServer({ policy: zoomThenAnswer({ windows: [[7000, 7700]], verdict: 'YES' }) });
  try {
    const model = await runAgent({ spectrum: openSpectrumFile(lamostFile).get(0), source: { file: lamostFile, sha256: sha(lamostFile) }, guide: loadGuide('m-giant'), endpoint: { baseUrl: server.baseUrl, model: 'spec-o3-7b', retries: 0 } });
    const scripted = await runAgent({ spectrum: openSpectrumFile(sdssFile).get(0), source: { file: sdssFile, sha256: sha(sdssFile) }, guide: loadGuide('carbon'), endpoint: 'scripted' });
    traces = [model, scripted];
  } finally {
    await server.close();
  }
  const dir = path.join(folder(), 'curation');
  fs.mkdirSync(dir, { recursive: true });
  traceFile = path.join(dir, 'traces.jsonl');
  fs.writeFileSync(traceFile, Buffer.concat([traceLine(traces[0]), Buffer.from('{"schema": "specvet.trace/1", "id": "torn by hand"\n'), traceLine(traces[1])]));
  return vscode.Uri.file(traceFile);
}

async function openCurator(uri: vscode.Uri): Promise<CurationViewReport> {
  await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE);
  return until('the curator to show a trajectory', () => report(uri), (r) => !!r && r.kind === 'traces' && r.shownTraceId !== null && r.trace !== null, 40_000) as Promise<CurationViewReport>;
}

test('a .jsonl opens as text by default (priority option); the curator lists its trajectories and reports the damaged line', async () => {
  const uri = await makeTraceFile();
  const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'specvet')!;
  const editor = (ext.packageJSON.contributes.customEditors as Array<{ viewType: string; priority: string; selector: Array<{ filenamePattern: string }> }>).find((c) => c.viewType === VIEW_TYPE)!;
  assert.deepEqual([editor.priority, editor.selector.map((s) => s.filenamePattern)], ['option', ['*.jsonl']]);
  await vscode.commands.executeCommand('vscode.open', uri);
  await until('the text editor', () => vscode.window.activeTextEditor?.document.uri.fsPath, (p) => p === uri.fsPath);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');

  const r = await openCurator(uri);
  assert.equal(r.total, 2);
  assert.deepEqual(r.visible, [0, 2]);
  assert.deepEqual(r.damagedLines, [2]);
  assert.equal(r.shownTraceId, traces[0].id);
  assert.equal(r.trace!.verdict, 'YES');
  assert.equal(r.dirty, false);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('edits through the page and the command path; undo and redo with VS Code\'s commands; dirty state; save writes the file atomically and keeps the damaged line', async () => {
  const uri = await makeTraceFile();
  const before = fs.readFileSync(uri.fsPath);
  await openCurator(uri);
  // Approve from the command palette: host → page → edit request → document → VS Code's edit stack.
  assert.equal(await vscode.commands.executeCommand('specvet.curation.approve'), true, 'sent to the active curator');
  await until('approved', () => traceOf(uri, 0), (t) => t?.curation?.status === 'approved');
  await until('dirty in the page', () => report(uri), (r) => r?.dirty === true);
  assert.equal(activeTabDirty(), true, 'the tab shows unsaved changes');

  // A think rewrite through the same path as the page's requests.
  const err = await vscode.commands.executeCommand<string | null>('specvet._test.curationEdit', uri.toString(), 0, { op: 'setThink', turn: 1, block: 0, text: 'TiO 7054 and 7589 Å are the decisive M-giant bands.' });
  assert.equal(err, null);
  await until('think shown', () => report(uri), (r) => (r?.trace?.thinkTexts ?? []).some((t) => t.includes('decisive M-giant bands')));
  const refused = await vscode.commands.executeCommand<string | null>('specvet._test.curationEdit', uri.toString(), 0, { op: 'setThink', turn: 1, block: 0, text: '<answer>\\boxed{NO}</answer>' });
  assert.match(refused ?? '', /may not contain <answer>/);
  await screenshot('vscode-curation');

  // Undo the think rewrite, then the approval; redo both.
  await vscode.commands.executeCommand('undo');
  await until('think undone', () => traceOf(uri, 0), (t) => !!t && !JSON.stringify(t.steps).includes('decisive M-giant bands'));
  await vscode.commands.executeCommand('undo');
  await until('approval undone', () => traceOf(uri, 0), (t) => (t?.curation?.status ?? 'unreviewed') === 'unreviewed');
  await until('clean again', () => activeTabDirty(), (d) => d === false);
  await vscode.commands.executeCommand('redo');
  await vscode.commands.executeCommand('redo');
  await until('redone', () => traceOf(uri, 0), (t) => t?.curation?.status === 'approved' && JSON.stringify(t.steps).includes('decisive M-giant bands'));
  assert.equal(activeTabDirty(), true);

  await vscode.commands.executeCommand('workbench.action.files.save');
  await until('saved', () => activeTabDirty(), (d) => d === false);
  await until('page clean', () => report(uri), (r) => r?.dirty === false);
  const read = readTraceFile(uri.fsPath);
  assert.equal(read.traces.length, 2);
  assert.deepEqual(read.damaged.map((d) => d.line), [2], 'the damaged line is still there');
  assert.equal(read.traces[0].curation?.status, 'approved');
  assert.ok(read.traces[0].steps.some((s) => s.kind === 'think' && s.text === 'TiO 7054 and 7589 Å are the decisive M-giant bands.'));
  const after = fs.readFileSync(uri.fsPath).toString('utf8').split('\n');
  const old = before.toString('utf8').split('\n');
  assert.deepEqual([after[1], after[2]], [old[1], old[2]], 'untouched lines are byte for byte the same');
  assert.deepEqual(fs.readdirSync(path.dirname(uri.fsPath)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');

  // Close, reopen: the saved state.
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  const r = await openCurator(uri);
  assert.equal(r.dirty, false);
  assert.equal((await traceOf(uri, 0))?.curation?.status, 'approved');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}, 150_000);

test('revert drops unsaved edits; hot-exit backup replays the edit list to the same document', async () => {
  const uri = await makeTraceFile();
  await openCurator(uri);
  await vscode.commands.executeCommand('specvet.curation.next');
  await until('the scripted trajectory shown', () => report(uri), (r) => r?.shownTraceId === traces[1].id && r.trace !== null);
  const disk = fs.readFileSync(uri.fsPath);
  assert.equal(await vscode.commands.executeCommand('specvet._test.curationEdit', uri.toString(), 2, { op: 'setLabel', verdict: 'NO' }), null);
  assert.equal(await vscode.commands.executeCommand('specvet._test.curationEdit', uri.toString(), 2, { op: 'forceZoom', afterTurn: 1, range: [5100, 5250], label: 'C2 5165' }), null);
  const shownZoom = await until('the forced zoom on the page', () => report(uri), (r) => (r?.trace?.images ?? []).some((i) => i.forced));
  assert.deepEqual(shownZoom!.trace!.images.find((i) => i.forced)!.window, [5100, 5250]);
  const backup = path.join(os.tmpdir(), `specvet-curation-backup-${process.pid}-${Date.now()}.json`);
  const rt = await vscode.commands.executeCommand<{ same: boolean; dirty: boolean; records: number }>('specvet._test.curationBackupRoundTrip', uri.toString(), backup);
  assert.deepEqual(rt, { same: true, dirty: true, records: 2 });
  const zoomed = await traceOf(uri, 2);
  assert.equal(zoomed?.steps.filter((s) => s.kind === 'forced_zoom').length, 1);

  await vscode.commands.executeCommand('workbench.action.files.revert');
  await until('reverted', () => traceOf(uri, 2), (t) => !!t && t.label === undefined && !t.steps.some((s) => s.kind === 'forced_zoom'));
  await until('the page shows the reverted trajectory', () => report(uri), (r) => !!r?.trace && !r.trace.images.some((i) => i.forced) && !r.dirty);
  assert.equal(activeTabDirty(), false);
  assert.deepEqual(fs.readFileSync(uri.fsPath), disk, 'the file was not touched');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('undo past a save makes the file dirty again, and the backup records the trace to put back', async () => {
  const uri = await makeTraceFile();
  await openCurator(uri);
  assert.equal(await vscode.commands.executeCommand('specvet._test.curationEdit', uri.toString(), 2, { op: 'setNote', note: 'saved note' }), null);
  await vscode.commands.executeCommand('workbench.action.files.save');
  await until('saved', () => activeTabDirty(), (d) => d === false);
  assert.equal(readTraceFile(uri.fsPath).traces[1].curation?.note, 'saved note');
  await vscode.commands.executeCommand('undo');
  await until('undone past the save', () => traceOf(uri, 2), (t) => !!t && t.curation?.note === undefined);
  await until('dirty again', () => activeTabDirty(), (d) => d === true);
  const backup = path.join(os.tmpdir(), `specvet-curation-backup-${process.pid}-${Date.now()}.json`);
  const rt = await vscode.commands.executeCommand<{ same: boolean; dirty: boolean; records: number }>('specvet._test.curationBackupRoundTrip', uri.toString(), backup);
  assert.deepEqual(rt, { same: true, dirty: true, records: 1 });
  await vscode.commands.executeCommand('workbench.action.files.revert');
  await until('back to the saved note', () => traceOf(uri, 2), (t) => t?.curation?.note === 'saved note');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('a run appending to the open file: new trajectories join the list, save keeps them with the edits; a file rewritten elsewhere is never overwritten', async () => {
  await makeTraceFile();
  const file = path.join(folder(), 'curation', 'live.jsonl');
  fs.writeFileSync(file, traceLine(traces[0]));
  const uri = vscode.Uri.file(file);
  await openCurator(uri);
  appendTrace(file, traces[1]); // what `specvet vet --out` does
  await until('appended trajectory listed', () => report(uri), (r) => r?.total === 2);
  assert.equal(await vscode.commands.executeCommand('specvet._test.curationEdit', uri.toString(), 0, { op: 'setLabel', verdict: 'YES' }), null);
  appendTrace(file, { ...traces[0], id: 'appended-while-dirty' });
  await until('appended while dirty', () => report(uri), (r) => r?.total === 3 && r.dirty);
  await vscode.commands.executeCommand('workbench.action.files.save');
  await until('saved', () => activeTabDirty(), (d) => d === false);
  const read = readTraceFile(file);
  assert.deepEqual(read.traces.map((t) => [t.id, t.label?.verdict ?? null]), [[traces[0].id, 'YES'], [traces[1].id, null], ['appended-while-dirty', null]]);

  // Another program rewrites the file while there are unsaved edits: the save is refused, nothing is lost.
  assert.equal(await vscode.commands.executeCommand('specvet._test.curationEdit', uri.toString(), 1, { op: 'setNote', note: 'unsaved' }), null);
  const foreign = traceLine({ ...traces[1], id: 'rewritten-elsewhere' });
  fs.writeFileSync(file, foreign);
  await sleep(600);
  await Promise.resolve(vscode.commands.executeCommand('workbench.action.files.save')).catch(() => undefined);
  await sleep(1000);
  assert.deepEqual(fs.readFileSync(file), foreign, 'the other program\'s file is untouched');
  assert.equal(activeTabDirty(), true, 'the edits are still unsaved, not lost');
  assert.equal((await traceOf(uri, 1))?.curation?.note, 'unsaved');
  await vscode.commands.executeCommand('workbench.action.files.revert');
  await until('reverted to the file on disk', () => report(uri), (r) => r?.total === 1 && r.dirty === false);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

test('export round trip after curation: approved trajectories only, every record rebuilds the conversation the model saw', async () => {
  const uri = await makeTraceFile();
  const read = readTraceFile(uri.fsPath);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-curation-export-'));
  try {
    const rep = exportSft(read.traces.map((trace, i) => ({ trace, file: uri.fsPath, line: read.lines[i] })), { outDir: out, approvedOnly: true });
    assert.equal(rep.records, 1, JSON.stringify(rep.skipped));
    assert.equal(rep.exported[0].traceId, traces[0].id);
    assert.match(rep.skipped.find((s) => s.traceId === traces[1].id)!.reason, /not approved/);
    const [rec] = JSON.parse(fs.readFileSync(rep.datasetFile!, 'utf8')) as SftRecord[];
    for (const img of rec.images) assert.ok(fs.existsSync(path.join(out, img)), `${img} exists`);
    assert.equal(rec.conversations.map((c) => c.value).join('').split('<image>').length - 1, rec.images.length, 'one image per placeholder');
    const rebuilt = rebuildMessages(rec, (rel) => new Uint8Array(fs.readFileSync(path.join(out, rel))));
    assert.deepEqual(rebuilt, trainingConversation(read.traces[0]));
    assert.ok(rec.conversations.some((c) => c.from === 'gpt' && c.value.includes('decisive M-giant bands')), 'the curated think block is what gets trained on');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('a JSONL that is not SpecVet traces says so in the curator', async () => {
  const file = path.join(folder(), 'curation', 'chat.jsonl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '{"messages": [{"role": "user", "content": "hello"}]}\n');
  const uri = vscode.Uri.file(file);
  await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE);
  const r = await until('not traces', () => report(uri), (x) => x?.kind === 'notTraces');
  assert.equal(r!.total, 0);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});
