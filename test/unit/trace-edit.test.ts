// Curation edits on real trajectories: the scripted inspector and the agent loop against the
// vLLM-like server (hermes and native), on a real LAMOST fixture. After every edit the trace
// validates, the messages the model saw and the steps the views show agree, and export-sft still
// rebuilds the conversation it trains on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAgent } from '../../src/core/agent/loop';
import type { EndpointSettings } from '../../src/core/agent/endpoint';
import { extractThinks, parseAssistantTurn } from '../../src/core/agent/parse';
import { hermesToolResponse } from '../../src/core/agent/prompt';
import { SpecVetError } from '../../src/core/errors';
import { buildSample, exportSft, rebuildMessages, trainingConversation, type SftRecord } from '../../src/core/export/sft';
import { loadGuide } from '../../src/core/guides/guide';
import { runZoomTool } from '../../src/core/render/tool';
import { openSpectrumFile } from '../../src/core/spectrum/open';
import type { Spectrum } from '../../src/core/spectrum/model';
import { applyTraceEdit, applyTraceEdits, composeFinalAnswer, renderForcedZoom, type TraceEdit } from '../../src/core/trace/edit';
import { locateTraceSpectrum } from '../../src/core/trace/locate';
import { validateTrace, type ContentPart, type Trace } from '../../src/core/trace/schema';
import { fixture } from '../support/paths';
import { answerText, startVllmServer, thinkText, toolCallText, zoomThenAnswer, type VllmServer } from '../support/vllm-server';

const FILE = fixture('spec-55862-B6212_sp06-025.fits');
const SHA = createHash('sha256').update(fs.readFileSync(FILE)).digest('hex');
const guide = loadGuide('m-giant');
const AT = '2026-11-21T10:00:00.000Z';
let spectrum: Spectrum;
let server: VllmServer;

before(async () => {
  spectrum = openSpectrumFile(FILE).get(0);
  server = await startVllmServer();
});
after(() => server.close());

function scriptedTrace(): Promise<Trace> {
  return runAgent({ spectrum, source: { file: FILE, sha256: SHA }, guide, endpoint: 'scripted' });
}

async function modelTrace(protocol: 'hermes' | 'native' = 'hermes'): Promise<Trace> {
  server.setPolicy(zoomThenAnswer({ windows: [[7000, 7700], [6100, 6700]], verdict: 'YES', callsAs: protocol === 'native' ? 'tool_calls' : 'text' }));
  const endpoint: EndpointSettings = { baseUrl: server.baseUrl, model: 'spec-o3-7b', retries: 0, protocol };
  const t = await runAgent({ spectrum, source: { file: FILE, sha256: SHA }, guide, endpoint });
  assert.equal(t.status, 'answered');
  return t;
}

const edit = (t: Trace, e: TraceEdit) => applyTraceEdit(t, e, AT);

function text(m: Trace['messages'][number]): string {
  if (typeof m.content === 'string') return m.content;
  if (m.content === null) return '';
  return m.content.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('');
}

/** Messages and steps agree: what every view and the exporter rely on. */
function assertConsistent(t: Trace): void {
  assert.deepEqual(validateTrace(t), []);
  const assistants = t.messages.filter((m) => m.role === 'assistant');
  assert.equal(assistants.length, t.turns, 'one assistant message per turn');
  assistants.forEach((m, k) => {
    const turn = k + 1;
    const thinks = t.steps.filter((s) => s.turn === turn && s.kind === 'think').map((s) => s.text);
    assert.deepEqual(thinks, extractThinks(m.content ?? ''), `think steps of turn ${turn} are the thinks of its text`);
  });
  for (const s of t.steps) {
    assert.ok(s.turn >= 0 && s.turn <= t.turns, `step turn ${s.turn} within 0..${t.turns}`);
    if (s.image) {
      const m = t.messages[s.image.message];
      assert.equal((m.content as ContentPart[])[s.image.part].type, 'image_url');
      assert.ok(text(m).includes(s.text!), `the ${s.kind} step's image sits in the message holding its text "${s.text}"`);
    }
  }
  const last = t.messages[t.messages.length - 1];
  if (last.role === 'assistant') assert.equal(t.answer.raw, last.content, 'answer.raw is the final turn');
}

test('scripted skeleton curated into training data: thinks, a forced zoom, the final answer, approved; exports and rebuilds', async () => {
  const base = await scriptedTrace();
  assert.equal(base.status, 'scripted');
  assertConsistent(base);
  const nTurns = base.turns;
  assert.ok(nTurns >= 2);

  // A think block for every scripted turn (they have none).
  let t = base;
  for (let turn = 1; turn <= nTurns; turn++) t = edit(t, { op: 'setThink', turn, block: 0, text: `Turn ${turn}: this window holds a diagnostic band of M giants.` });
  assertConsistent(t);
  const first = t.messages.find((m) => m.role === 'assistant')!;
  assert.match(first.content as string, /^<think>\nTurn 1: this window holds a diagnostic band of M giants\.\n<\/think>\n<tool_call>\n/);
  assert.equal(parseAssistantTurn(first.content as string).toolCall?.name, 'spectral_visualization_tool', 'the call is unchanged');
  assert.deepEqual(t.steps.filter((s) => s.turn === 1).map((s) => s.kind), ['think', 'tool_call', 'tool_result']);

  // A forced zoom after turn 1, rendered by the real tool exactly as the loop would have.
  const zoom = renderForcedZoom(t, spectrum, [6500, 6600], 'Hα region');
  assert.equal(zoom.ok, true);
  assert.equal(zoom.text, 'Generated spectral visualization focused on wavelength range (6500, 6600) Å for Hα region.');
  const direct = runZoomTool(spectrum, JSON.stringify({ wavelength_range: [6500, 6600], label: 'Hα region' }));
  assert.ok(direct.ok);
  assert.equal(zoom.image!.pngBase64, Buffer.from(direct.image.png).toString('base64'), 'same PNG as the tool gives the model');
  const before = t;
  t = edit(t, { op: 'insertForcedZoom', afterTurn: 1, zoom });
  assertConsistent(t);
  assert.equal(t.messages.length, before.messages.length + 1);
  const fz = t.steps.find((s) => s.kind === 'forced_zoom')!;
  assert.equal(fz.turn, 1);
  assert.deepEqual(fz.arguments, { wavelength_range: [6500, 6600], label: 'Hα region' });
  assert.deepEqual(fz.image!.window, [6500, 6600]);
  const fzMsg = t.messages[fz.image!.message];
  assert.deepEqual(fzMsg, hermesToolResponse(zoom.text, direct.image.png), 'the user turn the loop writes for a forced zoom');
  assert.equal(t.messages[fz.image!.message + 1].role, 'assistant', 'it comes right before turn 2');
  assert.equal(t.messages[fz.image!.message - 1].role, 'user', 'and right after turn 1\'s tool response');

  // Not answered yet: export refuses; then the curator writes the final answer.
  t = edit(t, { op: 'setCuration', status: 'approved' });
  assert.match((buildSample(t, { approvedOnly: true }) as { skip: string }).skip, /final answer/);
  t = edit(t, { op: 'setFinalAnswer', text: composeFinalAnswer('TiO bands at 7054 and 6159 Å are deep and Na I 8183/8195 is weak: an M giant.', 'YES') });
  assertConsistent(t);
  assert.equal(t.turns, nTurns + 1);
  assert.equal(t.status, 'answered');
  assert.deepEqual([t.answer.verdict, t.answer.formatOk], ['YES', true]);
  assert.equal(t.error, undefined);
  assert.deepEqual(t.steps.slice(-2).map((s) => [s.kind, s.turn]), [['think', nTurns + 1], ['answer', nTurns + 1]]);
  assert.equal(t.curation?.status, 'approved');
  assert.equal(t.curation?.editedAt, AT);

  // Export round trip: the record rebuilds exactly the conversation of the curated trace.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-curate-'));
  // (the curated line comes after the original of the same id: the latest line is the current one)
  const report = exportSft([{ trace: base }, { trace: t }], { outDir: dir, approvedOnly: true });
  assert.equal(report.records, 1);
  assert.equal(report.superseded, 1);
  assert.equal(report.exported[0].traceId, t.id);
  const [rec] = JSON.parse(fs.readFileSync(path.join(dir, 'specvet_sft.json'), 'utf8')) as SftRecord[];
  const rebuilt = rebuildMessages(rec, (rel) => new Uint8Array(fs.readFileSync(path.join(dir, rel))));
  assert.deepEqual(rebuilt, trainingConversation(t));
  assert.ok(rec.conversations.some((c) => c.from === 'human' && c.value.includes('for Hα region.')), 'the forced zoom is in a human turn');
  assert.equal(rec.images.length, 1 + nTurns + 1, 'overview, one image per window, the forced zoom');
  fs.rmSync(dir, { recursive: true, force: true });

  // The input traces were never changed.
  assert.equal(base.steps.some((s) => s.kind === 'think'), false);
});

test('forced zoom: insert then delete restores the messages and steps; a bad range records the tool error without an image', async () => {
  const base = await scriptedTrace();
  const zoom = renderForcedZoom(base, spectrum, [6500, 6600]);
  const withZoom = edit(base, { op: 'insertForcedZoom', afterTurn: 0, zoom });
  assertConsistent(withZoom);
  assert.equal(withZoom.messages[2].role, 'user', 'turn 0 zoom sits right after the opening user turn');
  assert.equal(withZoom.steps[0].kind, 'forced_zoom');
  const back = edit(withZoom, { op: 'deleteStep', step: withZoom.steps.findIndex((s) => s.kind === 'forced_zoom') });
  assert.deepEqual(back.messages, base.messages);
  assert.deepEqual(back.steps, base.steps);

  const bad = renderForcedZoom(base, spectrum, [12000, 13000]);
  assert.equal(bad.ok, false);
  assert.match(bad.text, /^Error: The specified wavelength range \[12000, 13000\] is invalid or outside the available data range \[\d+\.\d, \d+\.\d\]\.$/);
  const t = edit(base, { op: 'insertForcedZoom', afterTurn: 2, zoom: bad });
  assertConsistent(t);
  const step = t.steps.find((s) => s.kind === 'forced_zoom')!;
  assert.equal(step.ok, false);
  assert.equal(step.image, undefined);
  assert.deepEqual(t.messages.find((m) => text(m).includes('[12000, 13000]')), hermesToolResponse(bad.text, null));
});

test('hermes model trace: rewrite thinks (middle and final turn), delete a think, delete a tool turn, answer re-read', async () => {
  const base = await modelTrace('hermes');
  assertConsistent(base);
  assert.equal(base.turns, 3);

  // Middle turn: only the think text changes; the call stays byte for byte.
  const t1 = edit(base, { op: 'setThink', turn: 2, block: 0, text: 'The 6100–6700 Å window holds TiO 6159 and 6651: look there.' });
  assertConsistent(t1);
  const a0 = base.messages.filter((m) => m.role === 'assistant')[1].content as string;
  const a1 = t1.messages.filter((m) => m.role === 'assistant')[1].content as string;
  assert.equal(a1.slice(a1.indexOf('<tool_call>')), a0.slice(a0.indexOf('<tool_call>')));
  assert.match(a1, /^<think>\nThe 6100–6700 Å window holds TiO 6159 and 6651: look there\.\n<\/think>\n<tool_call>/);
  assert.deepEqual(t1.messages.filter((m) => m.role !== 'assistant'), base.messages.filter((m) => m.role !== 'assistant'), 'no other message changes');

  // Final turn: answer.raw follows; the verdict and format stay.
  const t2 = edit(t1, { op: 'setThink', turn: 3, block: 0, text: 'Deep TiO bands, weak Na I: a giant.' });
  assertConsistent(t2);
  assert.match(t2.answer.raw!, /Deep TiO bands, weak Na I: a giant\./);
  assert.deepEqual([t2.answer.verdict, t2.answer.formatOk], ['YES', true]);

  // Deleting the final turn's think breaks the trained format, and the answer says so.
  const t3 = edit(t2, { op: 'deleteStep', step: t2.steps.findIndex((s) => s.kind === 'think' && s.turn === 3) });
  assertConsistent(t3);
  assert.deepEqual([t3.answer.verdict, t3.answer.formatOk], ['YES', false]);
  assert.ok(t3.answer.formatErrors.some((e) => /think/.test(e)));
  assert.doesNotMatch(t3.answer.raw!, /<think>/);
  assert.match(t3.answer.raw!, /^<answer>/, 'no blank line left where the block was');

  // Deleting turn 1's tool result removes its call and its response; later turns renumber.
  const t4 = edit(base, { op: 'deleteStep', step: base.steps.findIndex((s) => s.kind === 'tool_result' && s.turn === 1) });
  assertConsistent(t4);
  assert.equal(t4.turns, 2);
  assert.equal(t4.messages.length, base.messages.length - 2);
  assert.deepEqual(t4.messages.slice(2), base.messages.slice(4));
  assert.deepEqual(t4.steps.map((s) => [s.kind, s.turn]), [['think', 1], ['tool_call', 1], ['tool_result', 1], ['think', 2], ['answer', 2]]);
  assert.deepEqual(t4.steps[2].image!.window, [6100, 6700]);
  assert.deepEqual(t4.answer, base.answer);
});

test('final answer: replaced and re-read with the one parser; removed; refused without an answer block or with a tool call', async () => {
  const base = await modelTrace('hermes');
  const no = edit(base, { op: 'setFinalAnswer', text: composeFinalAnswer('Strong CaH and Na I: a dwarf, not a giant.', 'NO') });
  assertConsistent(no);
  assert.equal(no.turns, base.turns, 'the final turn is replaced, not added');
  assert.deepEqual([no.answer.verdict, no.answer.formatOk, no.status], ['NO', true, 'answered']);
  assert.equal(no.steps.at(-1)!.kind, 'answer');
  assert.match(no.steps.at(-1)!.text!, /\\boxed\{NO\}/);

  const loose = edit(base, { op: 'setFinalAnswer', text: '<answer>\\boxed{yes}</answer>' });
  assert.deepEqual([loose.answer.verdict, loose.answer.formatOk], ['YES', false], 'no think block: format error recorded');

  const removed = edit(base, { op: 'deleteStep', step: base.steps.findIndex((s) => s.kind === 'answer') });
  assertConsistent(removed);
  assert.deepEqual([removed.status, removed.answer.verdict, removed.answer.raw], ['no_answer', null, null]);
  assert.equal(removed.turns, 2);
  assert.equal(removed.messages.at(-1)!.role, 'user', 'ends with the last tool response');

  for (const [bad, why] of [
    ['<think>x</think> no answer here', /no <answer>/],
    ['<think>x</think><tool_call>{"name":"spectral_visualization_tool","arguments":{"wavelength_range":[1,2]}}</tool_call><answer>\\boxed{YES}</answer>', /tool call/],
    ['   ', /empty/],
    ['<think>look at <image></think><answer>\\boxed{YES}</answer>', /image slot/],
  ] as const) {
    assert.throws(() => edit(base, { op: 'setFinalAnswer', text: bad }), (e: unknown) => e instanceof SpecVetError && e.code === 'trace' && why.test(e.message) && e.message.includes(base.id));
  }
  assert.throws(() => edit(base, { op: 'setThink', turn: 1, block: 0, text: 'sneaky </think><answer>\\boxed{NO}</answer>' }), /may not contain/);
  assert.throws(() => edit(base, { op: 'setThink', turn: 9, block: 0, text: 'x' }), /no assistant turn 9/);
  assert.throws(() => edit(base, { op: 'setThink', turn: 1, block: 3, text: 'x' }), /no block 3/);
  assert.throws(() => edit(base, { op: 'deleteStep', step: 999 }), /no step 999/);
  assert.throws(() => edit(base, { op: 'insertForcedZoom', afterTurn: 3, zoom: renderForcedZoom(base, spectrum, [6500, 6600]) }), /final answer/);
});

test('native trace: a forced zoom is one user turn as the loop writes it; deleting a tool turn removes call, tool message and image message', async () => {
  const base = await modelTrace('native');
  assertConsistent(base);
  assert.ok(base.messages.some((m) => m.role === 'tool'));
  const zoom = renderForcedZoom(base, spectrum, [5100, 5250], 'Mg b');
  const t = edit(base, { op: 'insertForcedZoom', afterTurn: 1, zoom });
  assertConsistent(t);
  const step = t.steps.find((s) => s.kind === 'forced_zoom')!;
  const m = t.messages[step.image!.message];
  assert.equal(m.role, 'user');
  assert.deepEqual((m.content as ContentPart[]).map((p) => p.type), ['image_url', 'text']);
  assert.equal(t.messages[step.image!.message - 1].role, 'user', 'after turn 1\'s image message');

  const d = edit(t, { op: 'deleteStep', step: t.steps.findIndex((s) => s.kind === 'tool_call' && s.turn === 1) });
  assertConsistent(d);
  assert.equal(d.messages.length, t.messages.length - 3, 'assistant with tool_calls, tool message, image message');
  assert.equal(d.steps.find((s) => s.kind === 'forced_zoom')!.turn, 0, 'the forced zoom stays, now before the first turn');
  assert.equal(d.messages.filter((m) => m.role === 'tool').length, 1);
  // Still exportable in the training format.
  const sample = buildSample(edit(d, { op: 'setCuration', status: 'approved' }), { approvedOnly: true });
  assert.ok('sample' in sample, JSON.stringify('skip' in sample ? sample.skip : ''));
});

test('an error note (two calls in one turn) is deleted from the record only; deleting its turn takes it along', async () => {
  server.setPolicy(({ turn }) =>
    turn === 0
      ? { content: thinkText('Both windows at once.') + toolCallText([7000, 7700], 'TiO') + toolCallText([6100, 6700], 'more TiO') }
      : { content: thinkText('Enough.') + answerText('YES') },
  );
  const base = await runAgent({ spectrum, source: { file: FILE, sha256: SHA }, guide, endpoint: { baseUrl: server.baseUrl, model: 'spec-o3-7b', retries: 0 } });
  assertConsistent(base);
  const errIndex = base.steps.findIndex((s) => s.kind === 'error');
  assert.ok(errIndex > 0, 'the loop recorded the extra call as an error note');
  const t = edit(base, { op: 'deleteStep', step: errIndex });
  assertConsistent(t);
  assert.deepEqual(t.messages, base.messages, 'the model never saw the note: messages unchanged');
  assert.equal(t.steps.length, base.steps.length - 1);
  const t2 = edit(base, { op: 'deleteStep', step: base.steps.findIndex((s) => s.kind === 'tool_call') });
  assertConsistent(t2);
  assert.equal(t2.steps.some((s) => s.kind === 'error'), false);
  assert.deepEqual(t2.steps.map((s) => s.kind), ['think', 'answer']);
});

test('label, curation status and note; every edit stamps editedAt; edits are deterministic and never change their input', async () => {
  const base = await modelTrace('hermes');
  const frozen = structuredClone(base);
  const edits = [
    { edit: { op: 'setLabel', verdict: 'NO', by: 'curator' } as TraceEdit, at: '2026-11-21T10:00:00.000Z' },
    { edit: { op: 'setNote', note: '  TiO is weak; probably a K giant.  ' } as TraceEdit, at: '2026-11-21T10:01:00.000Z' },
    { edit: { op: 'setCuration', status: 'rejected' } as TraceEdit, at: '2026-11-21T10:02:00.000Z' },
  ];
  const t = applyTraceEdits(base, edits);
  assert.deepEqual(t.label, { verdict: 'NO', at: '2026-11-21T10:00:00.000Z', by: 'curator' });
  assert.deepEqual(t.curation, { status: 'rejected', note: 'TiO is weak; probably a K giant.', editedAt: '2026-11-21T10:02:00.000Z' });
  assert.deepEqual(applyTraceEdits(base, edits), t, 'same edits, same result');
  assert.deepEqual(base, frozen, 'input untouched');
  assert.deepEqual(t.messages, base.messages, 'metadata edits leave the conversation alone');
  const cleared = applyTraceEdits(t, [{ edit: { op: 'setLabel', verdict: null }, at: AT }, { edit: { op: 'setNote', note: '' }, at: AT }]);
  assert.equal(cleared.label, undefined);
  assert.deepEqual(cleared.curation, { status: 'rejected', editedAt: AT });
  assert.match((buildSample(t) as { skip: string }).skip, /rejected by the curator \(TiO is weak/);
  assert.throws(() => edit(base, { op: 'setCuration', status: 'maybe' as never }), /approved, rejected or unreviewed/);
  assert.throws(() => edit(base, { op: 'frobnicate' } as never), /unknown edit/);
});

test('the spectrum is found beside the trace file and checked by sha256; a missing or changed file is named', async () => {
  const base = await scriptedTrace();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-locate-'));
  try {
    const moved = { ...base, source: { ...base.source, file: '/nowhere/else/spec-55862-B6212_sp06-025.fits' } };
    const traceFile = path.join(dir, 'traces.jsonl');
    assert.throws(() => locateTraceSpectrum(moved, traceFile), (e: unknown) => e instanceof SpecVetError && /is missing/.test(e.message) && e.message.includes(dir));
    fs.copyFileSync(FILE, path.join(dir, 'spec-55862-B6212_sp06-025.fits'));
    const found = locateTraceSpectrum(moved, traceFile);
    assert.equal(found.file, path.join(dir, 'spec-55862-B6212_sp06-025.fits'));
    assert.equal(found.spectrum.meta.id, base.source.spectrumId);
    const changed = Buffer.from(fs.readFileSync(FILE));
    changed[changed.length - 1] ^= 1;
    fs.writeFileSync(path.join(dir, 'spec-55862-B6212_sp06-025.fits'), changed);
    assert.throws(() => locateTraceSpectrum(moved, traceFile), /does not match its sha256/);
    // Found through a workspace folder too.
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-ws-'));
    fs.copyFileSync(FILE, path.join(ws, 'spec-55862-B6212_sp06-025.fits'));
    assert.equal(locateTraceSpectrum(moved, traceFile, [ws]).file, path.join(ws, 'spec-55862-B6212_sp06-025.fits'));
    fs.rmSync(ws, { recursive: true, force: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
