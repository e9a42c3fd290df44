// The curation editor's document model on a real trace file (scripted inspector runs on real
// fixtures, written with the real JSONL writer): damaged lines reported and kept byte for byte,
// only edited lines rewritten, the hot-exit backup replayed to the same bytes, and files that are
// not SpecVet traces recognised as such.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAgent } from '../../src/core/agent/loop';
import { loadGuide } from '../../src/core/guides/guide';
import { openSpectrumFile } from '../../src/core/spectrum/open';
import { TraceWriter, readTraceFile, traceLine } from '../../src/core/trace/jsonl';
import type { Trace } from '../../src/core/trace/schema';
import { composeFinalAnswer } from '../../src/core/trace/edit';
import { TraceFile, curationTraceMessage, parseBackup, toTraceEdit, BACKUP_SCHEMA, type BackupRecord } from '../../src/extension/curation/traceFile';
import { fixture } from '../support/paths';

const LAMOST = fixture('spec-55862-B6212_sp06-025.fits');
const SDSS = fixture('spSpec-52999-1307-323.fit');
let traces: Trace[];
let bytes: Buffer;

before(async () => {
  const run = (file: string, guide: string) =>
    runAgent({ spectrum: openSpectrumFile(file).get(0), source: { file, sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex') }, guide: loadGuide(guide), endpoint: 'scripted' });
  traces = [await run(LAMOST, 'm-giant'), await run(SDSS, 'carbon'), await run(LAMOST, 'cv')];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-tracefile-'));
  const file = path.join(dir, 'traces.jsonl');
  const w = new TraceWriter(file);
  w.append(traces[0]);
  w.close();
  // A line someone broke by hand, a blank line, two more traces, and the torn tail a killed writer leaves.
  fs.appendFileSync(file, '{"schema": "specvet.trace/1", "id": "broken", \n\n');
  const w2 = new TraceWriter(file);
  w2.append(traces[1]);
  w2.append(traces[2]);
  w2.close();
  fs.appendFileSync(file, JSON.stringify(traces[0]).slice(0, 5000));
  bytes = fs.readFileSync(file);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a real trace file: traces listed, damaged lines reported with their line numbers, unchanged bytes saved back identically', () => {
  const f = TraceFile.parse(bytes);
  assert.deepEqual(f.recognise(), { kind: 'traces', reason: null });
  assert.deepEqual(f.traceEntries.map((e) => f.trace(e).id), traces.map((t) => t.id));
  const msg = f.documentMessage('traces.jsonl', false, () => false);
  assert.deepEqual(msg.traces.map((t) => [t.line, t.guideId, t.status, t.curation, t.verdict]), [
    [1, 'm-giant', 'scripted', 'unreviewed', null],
    [4, 'carbon', 'scripted', 'unreviewed', null],
    [5, 'cv', 'scripted', 'unreviewed', null],
  ]);
  assert.deepEqual(msg.damaged.map((d) => [d.line, d.truncated]), [[2, false], [6, true]]);
  assert.match(msg.damaged[0].reason, /invalid JSON/);
  assert.deepEqual(Buffer.from(f.serialise()), bytes, 'nothing edited: the same bytes, torn tail included');
});

test('edits rewrite only their line; damaged lines survive the save; the saved file reads back with the edit', () => {
  const f = TraceFile.parse(bytes);
  const entry = f.traceEntries[1];
  const id = f.trace(entry).id;
  f.apply(entry, id, { op: 'setCuration', status: 'approved' }, '2026-11-21T10:00:00.000Z');
  f.apply(entry, id, { op: 'setFinalAnswer', text: composeFinalAnswer('No C2 Swan bands at 5165 or 5636 Å.', 'NO') }, '2026-11-21T10:01:00.000Z');
  assert.throws(() => f.apply(entry, 'someone-else', { op: 'setNote', note: 'x' }, '2026-11-21T10:02:00.000Z'), /holds trace/);
  const out = Buffer.from(f.serialise());
  const oldLines = bytes.toString('utf8').split('\n');
  const newLines = out.toString('utf8').split('\n');
  assert.equal(newLines.length, oldLines.length);
  newLines.forEach((l, i) => {
    if (i === entry) assert.notEqual(l, oldLines[i]);
    else assert.equal(l, oldLines[i], `line ${i + 1} unchanged`);
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-tracefile-'));
  const file = path.join(dir, 't.jsonl');
  fs.writeFileSync(file, out);
  const read = readTraceFile(file);
  assert.equal(read.traces.length, 3);
  assert.equal(read.damaged.length, 2, 'the damaged lines are still there');
  const edited = read.traces.find((t) => t.id === id)!;
  assert.deepEqual([edited.curation?.status, edited.answer.verdict, edited.status], ['approved', 'NO', 'answered']);
  fs.rmSync(dir, { recursive: true, force: true });
  // After a save the file is the new base.
  const saved = f.markSaved();
  assert.deepEqual(Buffer.from(saved.serialise()), out);
});

test('hot exit: the backup of an edit list replays on the original bytes to the same result; a changed file is reported', () => {
  const f = TraceFile.parse(bytes);
  const [e0, e1] = f.traceEntries;
  const t0 = f.trace(e0);
  const records: BackupRecord[] = [
    { entry: e0, traceId: t0.id, at: '2026-11-21T10:00:00.000Z', edit: { op: 'setThink', turn: 1, block: 0, text: 'TiO 7054 is the strongest M-giant band.' } },
    { entry: e1, traceId: f.trace(e1).id, at: '2026-11-21T10:00:01.000Z', edit: { op: 'setLabel', verdict: 'NO' } },
    { entry: e0, traceId: t0.id, at: '2026-11-21T10:00:02.000Z', set: t0 },
  ];
  for (const r of records.slice(0, 2)) if ('edit' in r) f.apply(r.entry, r.traceId, r.edit, r.at);
  f.setTrace(e0, t0);
  const expected = Buffer.from(f.serialise());
  const backupText = JSON.stringify({ schema: BACKUP_SCHEMA, baseSha256: TraceFile.parse(bytes).sha256, records });
  const restored = TraceFile.parse(bytes);
  const { problems } = restored.restore(parseBackup(backupText, 'backup'));
  assert.deepEqual(problems, []);
  assert.deepEqual(Buffer.from(restored.serialise()), expected);

  // The file changed on disk meanwhile (a line appended in front): edits follow their trajectory id.
  const shifted = Buffer.concat([Buffer.from(JSON.stringify(traces[2]) + '\n'), bytes]);
  const moved = TraceFile.parse(shifted);
  const r2 = moved.restore(parseBackup(backupText, 'backup'));
  assert.match(r2.problems[0], /changed on disk/);
  assert.equal(moved.trace(moved.traceEntries.find((e) => moved.trace(e).id === traces[1].id)!).label?.verdict, 'NO');
  assert.throws(() => parseBackup('{"schema": "other"}', 'backup'), /not a specvet\.curation-backup\/1 backup/);
  assert.throws(() => parseBackup('{', 'backup'), /not valid JSON/);
});

test('lines another writer appends join the open file with edits kept; any other change is not an append', () => {
  const clean = Buffer.concat([traceLine(traces[0]), traceLine(traces[1])]);
  const f = TraceFile.parse(clean);
  f.apply(0, traces[0].id, { op: 'setCuration', status: 'approved' }, '2026-11-21T10:00:00.000Z');
  const disk = Buffer.concat([clean, traceLine(traces[2])]);
  const tail = f.appendedIn(disk)!;
  assert.equal(tail.length, traceLine(traces[2]).length);
  const merged = f.withAppended(tail);
  assert.deepEqual(merged.traceEntries.map((e) => [merged.trace(e).id, merged.lines[e].line]), [[traces[0].id, 1], [traces[1].id, 2], [traces[2].id, 3]]);
  assert.equal(merged.trace(0).curation?.status, 'approved', 'the edit is kept');
  assert.equal(merged.sha256, TraceFile.parse(disk).sha256, 'the new base is the file on disk');
  assert.ok(merged.sameBytes(disk));
  const saved = Buffer.from(merged.serialise()).toString('utf8').split('\n');
  assert.equal(saved[2], traceLine(traces[2]).toString('utf8').trimEnd(), 'the appended line saved as written');
  // Rewritten, truncated, or appended after a torn tail: not an append.
  assert.equal(f.appendedIn(Buffer.concat([traceLine(traces[1]), traceLine(traces[0])])), null);
  assert.equal(f.appendedIn(clean.subarray(0, 100)), null);
  assert.equal(TraceFile.parse(bytes).appendedIn(Buffer.concat([bytes, traceLine(traces[2])])), null, 'the base ends in a torn line a writer would cut');
});

test('recognition: empty file, other JSONL, a future trace version', () => {
  assert.equal(TraceFile.parse(new Uint8Array(0)).recognise().kind, 'empty');
  const other = TraceFile.parse(Buffer.from('{"messages": [{"role": "user", "content": "hi"}]}\n{"a": 1}\n'));
  const r = other.recognise();
  assert.equal(r.kind, 'notTraces');
  assert.match(r.reason!, /no line is a SpecVet trace.*line 1/);
  const future = TraceFile.parse(Buffer.from('{"schema": "specvet.trace/2", "id": "x"}\n'));
  assert.match(future.recognise().reason!, /specvet\.trace\/2, which this SpecVet cannot read/);
  // All lines damaged but ours: still a trace file (with damaged lines), not "some other JSONL".
  assert.equal(TraceFile.parse(Buffer.from('{"schema": "specvet.trace/1", "id": 3}\n')).recognise().kind, 'traces');
});

test('the page\'s trace message: one view event per step plus finished, think blocks numbered per turn, export readiness', () => {
  const f = TraceFile.parse(bytes);
  const entry = f.traceEntries[0];
  const m = curationTraceMessage(f, 'traces.jsonl', entry, 7);
  assert.equal(m.requestId, 7);
  assert.equal(m.events.length, m.steps.length + 1);
  assert.equal(m.events.at(-1)!.kind, 'finished');
  assert.deepEqual(m.turnsWithoutThink, Array.from({ length: m.turns }, (_, i) => i + 1), 'scripted turns have no think yet');
  assert.equal(m.finalText, null);
  assert.match(m.exportSkip!, /not approved/);
  assert.equal(m.info.location, 'traces.jsonl:1');
  const withThink = f.apply(entry, f.trace(entry).id, { op: 'setThink', turn: 2, block: 0, text: 'Second window.' }, '2026-11-21T10:00:00.000Z');
  const m2 = curationTraceMessage(f, 'traces.jsonl', entry);
  assert.ok(withThink.after.steps.some((s) => s.kind === 'think'));
  assert.deepEqual(m2.steps.filter((s) => s.kind === 'think').map((s) => [s.turn, s.block]), [[2, 0]]);
  assert.throws(() => curationTraceMessage(f, 'traces.jsonl', 1), /no trajectory at entry 1/);
  // A forced-zoom request is rendered from the spectrum the caller finds; a bad range is refused before rendering.
  const spec = toTraceEdit(f.trace(entry), { op: 'forceZoom', afterTurn: 1, range: [6500, 6600], label: 'Hα' }, () => openSpectrumFile(LAMOST).get(0));
  assert.equal(spec.edit.op, 'insertForcedZoom');
  assert.throws(() => toTraceEdit(f.trace(entry), { op: 'forceZoom', afterTurn: 1, range: [6600, 6500] }, () => { throw new Error('not reached'); }), /two increasing wavelengths/);
});
