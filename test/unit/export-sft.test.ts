// Fine-tuning export on real trajectories: the agent loop against the vLLM-like server (hermes and
// native protocols) and the scripted inspector, on real LAMOST and SDSS fixtures. Round trip: every
// placeholder has an image, every image file exists and decodes to the size the trace recorded, and
// each record rebuilds exactly the conversation the model saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { runAgent, type AgentInput } from '../../src/core/agent/loop';
import type { EndpointSettings } from '../../src/core/agent/endpoint';
import { loadGuide } from '../../src/core/guides/guide';
import { openSpectrumFile } from '../../src/core/spectrum/open';
import type { Spectrum } from '../../src/core/spectrum/model';
import { TraceWriter, readTraceFile } from '../../src/core/trace/jsonl';
import { validateTrace, type ContentPart, type Trace } from '../../src/core/trace/schema';
import { buildSample, exportSft, rebuildMessages, trainingConversation, IMAGE_PLACEHOLDER, type SftRecord } from '../../src/core/export/sft';
import { fixture, repoRoot } from '../support/paths';
import { answerText, startVllmServer, thinkText, zoomThenAnswer, type VllmServer } from '../support/vllm-server';

const LAMOST = fixture('spec-55862-B6212_sp06-025.fits');
const SDSS = fixture('spSpec-52999-1307-323.fit');
const cli = path.join(repoRoot, 'dist/cli.js');
const guide = loadGuide('m-giant');
let lamost: Spectrum;
let sdss: Spectrum;
let server: VllmServer;

before(async () => {
  lamost = openSpectrumFile(LAMOST).get(0);
  sdss = openSpectrumFile(SDSS).get(0);
  server = await startVllmServer();
});
after(() => server.close());

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-sft-'));
}

function endpoint(over: Partial<EndpointSettings> = {}): EndpointSettings {
  return { baseUrl: server.baseUrl, model: 'spec-o3-7b', retries: 0, ...over };
}

async function modelTrace(spectrum: Spectrum, file: string, over: Partial<AgentInput> = {}, ep: Partial<EndpointSettings> = {}): Promise<Trace> {
  const t = await runAgent({ spectrum, source: { file, sha256: 'a'.repeat(64) }, guide, endpoint: endpoint(ep), ...over });
  assert.deepEqual(validateTrace(t), []);
  return t;
}

function readRecords(dir: string, name = 'specvet_sft'): SftRecord[] {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
}

/** The data URLs of a message list, in order. */
function imageUrls(messages: Array<{ content: unknown }>): string[] {
  return messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as ContentPart[]).filter((p) => p.type === 'image_url').map((p) => (p as { image_url: { url: string } }).image_url.url) : []));
}

/** Placeholders match images, files exist and decode as PNGs of the recorded sizes, and the record rebuilds the conversation. */
function assertRoundTrip(dir: string, record: SftRecord, trace: Trace): void {
  const placeholders = record.conversations.reduce((n, t) => n + t.value.split(IMAGE_PLACEHOLDER).length - 1, 0);
  assert.equal(placeholders, record.images.length, 'one image per <image> placeholder');
  const expectedSizes = new Map<string, { width: number; height: number }>();
  for (const s of trace.steps) {
    if (!s.image) continue;
    const part = (trace.messages[s.image.message].content as ContentPart[])[s.image.part] as { image_url: { url: string } };
    expectedSizes.set(part.image_url.url, { width: s.image.width, height: s.image.height });
  }
  const conversation = trainingConversation(trace);
  const urls = imageUrls(conversation);
  assert.equal(urls.length, record.images.length);
  record.images.forEach((rel, i) => {
    const abs = path.join(dir, rel);
    assert.ok(fs.existsSync(abs), `${rel} exists`);
    const png = PNG.sync.read(fs.readFileSync(abs));
    const expected = expectedSizes.get(urls[i]);
    if (expected) assert.deepEqual({ width: png.width, height: png.height }, expected, `${rel} has the size recorded in the trace`);
    else assert.ok(png.width > 300 && png.height > 200, 'the overview decodes to a full figure');
  });
  const rebuilt = rebuildMessages(record, (rel) => fs.readFileSync(path.join(dir, rel)));
  assert.deepEqual(rebuilt, conversation);
}

test('hermes trajectory (real LAMOST spectrum, vLLM-like server): export round trip rebuilds exactly the messages the model saw', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[7000, 7700], [6100, 6700]], verdict: 'YES' }));
  const trace = await modelTrace(lamost, LAMOST, { label: { verdict: 'YES' } });
  assert.equal(trace.status, 'answered');
  const dir = tmp();
  const report = exportSft([{ trace, file: 'traces.jsonl', line: 1 }], { outDir: dir });
  assert.equal(report.records, 1);
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(report.warnings, [], 'a well-formed model trajectory has nothing to warn about');
  const [record] = readRecords(dir);
  assert.deepEqual(record.conversations.map((t) => t.from), ['system', 'human', 'gpt', 'human', 'gpt', 'human', 'gpt']);
  assert.equal(record.conversations[0].value, 'You are a helpful assistant.');
  assert.ok(record.conversations[1].value.startsWith('<image>\nAnalyze the provided spectrum to determine if it is a **'), 'first user turn: <image> then the task text, as in training');
  assert.match(record.conversations[2].value, /^<think>[\s\S]*<\/think>\n<tool_call>\n\{"name": ?"spectral_visualization_tool"/);
  assert.match(record.conversations[3].value, /^<tool_response>\n<image>Generated spectral visualization focused on wavelength range \(7000, 7700\) Å for feature 1\.\n<\/tool_response>$/);
  assert.match(record.conversations[6].value, /<answer>[\s\S]*\\boxed\{YES\}[\s\S]*<\/answer>/);
  assert.equal(record.images.length, 3);
  assert.deepEqual(JSON.parse(record.tools!)[0].function.name, 'spectral_visualization_tool');
  assertRoundTrip(dir, record, trace);
  // hermes: the training conversation IS the message list as sent, unchanged.
  assert.deepEqual(rebuildMessages(record, (rel) => fs.readFileSync(path.join(dir, rel))), trace.messages);

  const info = JSON.parse(fs.readFileSync(path.join(dir, 'dataset_info.json'), 'utf8'));
  assert.deepEqual(info.specvet_sft, {
    file_name: 'specvet_sft.json',
    formatting: 'sharegpt',
    columns: { messages: 'conversations', images: 'images', tools: 'tools' },
    tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt', system_tag: 'system' },
  });
});

test('native trajectory (tool_calls + tool messages) exports the same hermes text as the hermes run of the same model', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[7000, 7700]], verdict: 'NO', callsAs: 'tool_calls' }));
  const native = await modelTrace(lamost, LAMOST, {}, { protocol: 'native' });
  assert.equal(native.status, 'answered');
  assert.ok(native.messages.some((m) => m.role === 'tool'), 'the native run used tool messages');
  server.setPolicy(zoomThenAnswer({ windows: [[7000, 7700]], verdict: 'NO' }));
  const hermes = await modelTrace(lamost, LAMOST);

  const a = tmp();
  const b = tmp();
  exportSft([{ trace: native }], { outDir: a });
  exportSft([{ trace: hermes }], { outDir: b });
  const [ra] = readRecords(a);
  const [rb] = readRecords(b);
  assert.deepEqual(ra, rb, 'identical records: native is rewritten to the training format');
  assertRoundTrip(a, ra, native);
  assert.ok(!ra.conversations.some((t) => t.value.includes('Image returned by')), 'no native-only caption left');
});

test('a forced zoom after a tool result joins the two user turns; the round trip still holds on an SDSS spectrum', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[6400, 6700]], verdict: 'NO' }));
  const first = await modelTrace(sdss, SDSS);
  // A curator inserts a zoom after the final answer's turn is removed: resume from the tool result.
  const cut = structuredClone(first);
  cut.messages = cut.messages.slice(0, -1);
  cut.steps = cut.steps.filter((s) => s.turn < first.turns);
  cut.turns = first.turns - 1;
  const trace = await modelTrace(sdss, SDSS, { resumeFrom: cut, forcedZooms: [{ range: [4800, 4950], label: 'Hβ' }] });
  const users = trace.messages.map((m) => m.role).join(',');
  assert.match(users, /user,user/, 'tool result then forced zoom: two user turns in a row');
  const dir = tmp();
  exportSft([{ trace }], { outDir: dir });
  const [record] = readRecords(dir);
  assert.deepEqual(record.conversations.map((t) => t.from), ['system', 'human', 'gpt', 'human', 'gpt']);
  assert.match(record.conversations[3].value, /<\/tool_response>\n<tool_response>\n<image>Generated spectral visualization focused on wavelength range \(4800, 4950\) Å for Hβ\./);
  assertRoundTrip(dir, record, trace);
});

test('scripted skeletons: skipped until a curator writes the answer; approved-only and rejected honoured; latest line wins', async () => {
  const scripted = await runAgent({ spectrum: lamost, source: { file: LAMOST, sha256: 'b'.repeat(64) }, guide, endpoint: 'scripted' });
  assert.equal(scripted.status, 'scripted');
  const skip = buildSample(scripted);
  assert.ok('skip' in skip && /final answer/.test(skip.skip), 'a skeleton without an answer is not training data');

  // What the trace editor does: the curator writes the final turn and approves.
  const curated: Trace = structuredClone(scripted);
  curated.messages.push({ role: 'assistant', content: thinkText('Strong TiO band heads at 7054 and 7589 Å; Na I 8183/8195 weak: a giant.') + answerText('YES') });
  curated.curation = { status: 'approved', note: 'clear TiO', editedAt: new Date().toISOString() };
  const unreviewed: Trace = { ...structuredClone(curated), id: 'second-trajectory', curation: undefined };
  const rejected: Trace = { ...structuredClone(curated), id: 'third-trajectory', curation: { status: 'rejected', note: 'bad zooms' } };

  const dir = tmp();
  const file = path.join(dir, 'traces.jsonl');
  const w = new TraceWriter(file);
  for (const t of [scripted, curated, unreviewed, rejected]) w.append(t);
  w.close();

  const read = readTraceFile(file);
  assert.deepEqual(read.lines, [1, 2, 3, 4]);
  const inputs = read.traces.map((trace, i) => ({ trace, file, line: read.lines[i] }));
  const all = exportSft(inputs, { outDir: path.join(dir, 'all') });
  assert.equal(all.superseded, 1, 'line 1 is superseded by line 2 (same trace id)');
  assert.deepEqual(all.exported.map((e) => e.line), [2, 3]);
  assert.deepEqual(all.skipped.map((s) => [s.line, s.reason]), [[4, 'rejected by the curator (bad zooms)']]);
  assert.equal(all.images.written, guide.windows.length + 1, 'identical images are stored once');
  // The scripted zoom turns carry no reasoning: exported, with a warning the curator can act on.
  const warn = all.warnings.find((w) => w.line === 2)!;
  assert.match(warn.message, new RegExp(`assistant turns ${Array.from({ length: guide.windows.length }, (_, i) => i + 1).join(', ')} have no <think> reasoning`));

  const approved = exportSft(inputs, { outDir: path.join(dir, 'approved'), approvedOnly: true });
  assert.deepEqual(approved.exported.map((e) => e.traceId), [curated.id]);
  assert.match(approved.skipped.find((s) => s.traceId === 'second-trajectory')!.reason, /not approved \(curation: unreviewed\)/);
  const [record] = readRecords(path.join(dir, 'approved'));
  assertRoundTrip(path.join(dir, 'approved'), record, curated);
  // Scripted zoom turns have no reasoning; the record still alternates and ends with the curator's answer.
  assert.equal(record.conversations.at(-1)!.from, 'gpt');
  assert.match(record.conversations.at(-1)!.value, /\\boxed\{YES\}/);
});

test('badly formed final answers and literal <image> text are skipped with a reason, not exported', async () => {
  server.setPolicy(() => ({ content: 'The answer is \\boxed{YES}' }));
  const noThink = await modelTrace(lamost, LAMOST);
  const r1 = buildSample(noThink);
  assert.ok('skip' in r1 && /not in the trained format/.test(r1.skip), JSON.stringify(r1));

  server.setPolicy(() => ({ content: thinkText('I see <image> here') + answerText('NO') }));
  const literal = await modelTrace(lamost, LAMOST);
  const r2 = buildSample(literal);
  assert.ok('skip' in r2 && /literal <image>/.test(r2.skip), JSON.stringify(r2));
});

test('CLI: export-sft --approved-only writes the dataset, merges dataset_info.json, and refuses an unreadable registry', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[7000, 7700]], verdict: 'YES' }));
  const good = await modelTrace(lamost, LAMOST);
  good.curation = { status: 'approved' };
  const other = await modelTrace(lamost, LAMOST);
  const dir = tmp();
  const file = path.join(dir, 'traces.jsonl');
  const w = new TraceWriter(file);
  w.append(good);
  w.append(other);
  w.close();
  fs.appendFileSync(file, '{"torn": tru'); // a damaged tail is reported, not fatal
  const out = path.join(dir, 'sft');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'dataset_info.json'), JSON.stringify({ mine: { file_name: 'mine.json' } }));

  const run = (args: string[]) => spawnSync(process.execPath, [cli, 'export-sft', ...args], { encoding: 'utf8', timeout: 60_000 });
  const r = run([file, '--out', out, '--approved-only']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 trajectory exported \(1 skipped\)/);
  assert.match(r.stdout, new RegExp(`skipped ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2 \\(${other.id}\\): not approved`));
  assert.match(r.stderr, /traces\.jsonl:3 skipped: unterminated last line/);
  const info = JSON.parse(fs.readFileSync(path.join(out, 'dataset_info.json'), 'utf8'));
  assert.deepEqual(Object.keys(info), ['mine', 'specvet_sft'], 'other datasets in the registry are kept');
  const [record] = readRecords(out);
  assertRoundTrip(out, record, good);
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith('.tmp') || f.startsWith('.')), [], 'no temporary files left');

  fs.writeFileSync(path.join(out, 'dataset_info.json'), '{ not json');
  const bad = run([file, '--out', out]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /dataset registry is not valid JSON.*dataset_info\.json/);
  assert.equal(fs.readFileSync(path.join(out, 'dataset_info.json'), 'utf8'), '{ not json', 'an unreadable registry is never overwritten');

  const unapproved = path.join(dir, 'unapproved.jsonl');
  const w2 = new TraceWriter(unapproved);
  w2.append(other);
  w2.close();
  const none = run([unapproved, '--out', path.join(dir, 'none'), '--approved-only', '--name', 'x']);
  assert.equal(none.status, 1);
  assert.ok(!fs.existsSync(path.join(dir, 'none')), 'nothing written when nothing is exportable');
  fs.writeFileSync(file, '');
  assert.equal(run([file, '--out', out]).status, 1);
  assert.equal(run(['--out', out]).status, 2);
  assert.equal(run([file]).status, 2);
});
