import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendTrace, parseTraceLines, readTraceFile, TraceWriter } from '../../src/core/trace/jsonl';
import { TRACE_SCHEMA, validateTrace, type Trace } from '../../src/core/trace/schema';

function tmp(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-trace-')), name);
}

/** A minimal but complete trace with one image step (padding makes lines as large as real ones). */
function sampleTrace(id: string, padBytes = 0): Trace {
  const png = 'data:image/png;base64,' + 'A'.repeat(padBytes);
  return {
    schema: TRACE_SCHEMA,
    id,
    createdAt: new Date(0).toISOString(),
    source: { file: 'spec.fits', sha256: 'a'.repeat(64), index: 0, spectrumId: 'x', survey: 'LAMOST', format: 'lamost-lrs-image', redshift: null, restFrame: false },
    guide: { id: 'carbon', version: '1', sha256: 'b'.repeat(64), text: '---\n', source: 'builtin:carbon' },
    endpoint: { baseUrl: 'scripted', model: 'scripted', protocol: 'scripted', stream: false, temperature: null, topP: null, maxTokens: null, maxTurns: 8, headerNames: [] },
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: png } }, { type: 'text', text: '\nAnalyze' }] },
    ],
    steps: [{ kind: 'tool_result', turn: 0, at: 0, text: 'ok', ok: true, image: { window: null, width: 800, height: 480, message: 1, part: 0 } }],
    answer: { raw: null, verdict: null, formatOk: false, formatErrors: ['scripted'] },
    status: 'scripted',
    turns: 0,
    usage: null,
    totalMs: 1,
    client: { name: 'specvet', version: '0.1.0' },
  };
}

test('appended traces read back identical, one per line', () => {
  const file = tmp('t.jsonl');
  appendTrace(file, sampleTrace('a'));
  appendTrace(file, sampleTrace('b', 1000));
  const r = readTraceFile(file);
  assert.deepEqual(r.damaged, []);
  assert.deepEqual(r.traces.map((t) => t.id), ['a', 'b']);
  assert.deepEqual(r.traces[0], sampleTrace('a'));
  assert.equal(fs.readFileSync(file, 'utf8').split('\n').length, 3);
});

test('the validator names each problem by JSON path', () => {
  const t = sampleTrace('a') as unknown as Record<string, unknown>;
  assert.deepEqual(validateTrace(t), []);
  const bad = { ...t, schema: 'specvet.trace/0', status: 'done', steps: [{ kind: 'tool_result', image: { message: 0, part: 0 } }] };
  const paths = validateTrace(bad).map((p) => p.path);
  assert.deepEqual(paths, ['$.schema', '$.steps[0].image', '$.status']);
});

test('a damaged last line is skipped and reported; damaged middle lines too', () => {
  const good = JSON.stringify(sampleTrace('a'));
  const text = `${good}\n{"schema": "specvet.trace/1", "id": 3\n${good}\n${good.slice(0, 500)}`;
  const r = parseTraceLines(Buffer.from(text));
  assert.equal(r.traces.length, 2);
  assert.equal(r.damaged.length, 2);
  assert.deepEqual([r.damaged[0].line, r.damaged[0].truncated], [2, false]);
  assert.deepEqual([r.damaged[1].line, r.damaged[1].truncated], [4, true]);
  assert.match(r.damaged[1].reason, /unterminated last line of 500 bytes/);
});

test('a writer cuts a torn tail before appending, so the file is whole lines again', () => {
  const file = tmp('t.jsonl');
  appendTrace(file, sampleTrace('a'));
  fs.appendFileSync(file, JSON.stringify(sampleTrace('torn')).slice(0, 300));
  const w = new TraceWriter(file);
  assert.equal(w.repaired.droppedBytes, 300);
  w.append(sampleTrace('b'));
  w.close();
  const r = readTraceFile(file);
  assert.deepEqual(r.damaged, []);
  assert.deepEqual(r.traces.map((t) => t.id), ['a', 'b']);
});

test('a writer killed with SIGKILL mid-append leaves only whole lines plus at most one torn tail, which the next writer repairs', async () => {
  const file = tmp('killed.jsonl');
  // The child is this test file's own bundle: run it in "writer" mode through an env variable.
  const child = spawn(process.execPath, [__filename], { env: { ...process.env, SPECVET_TRACE_WRITER_CHILD: file }, stdio: ['ignore', 'pipe', 'inherit'] });
  // Wait until it has written a few lines, then kill it while it is appending 8 MB lines.
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      try {
        if (fs.existsSync(file) && fs.statSync(file).size > 3 * 8_000_000) {
          clearInterval(t);
          resolve();
        }
      } catch (err) {
        clearInterval(t);
        reject(err);
      }
    }, 5);
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const r = readTraceFile(file);
  assert.ok(r.traces.length >= 3, `whole traces survive (${r.traces.length})`);
  assert.ok(r.damaged.length <= 1, 'at most the last line is damaged');
  if (r.damaged.length) assert.equal(r.damaged[0].truncated, true);
  r.traces.forEach((t, i) => assert.equal(t.id, `line-${i}`));
  const w = new TraceWriter(file);
  w.append(sampleTrace('after-kill'));
  w.close();
  const again = readTraceFile(file);
  assert.deepEqual(again.damaged, []);
  assert.equal(again.traces[again.traces.length - 1].id, 'after-kill');
});

// Child mode for the SIGKILL test: append large lines until killed.
if (process.env.SPECVET_TRACE_WRITER_CHILD) {
  const w = new TraceWriter(process.env.SPECVET_TRACE_WRITER_CHILD);
  for (let i = 0; i < 10_000; i++) w.append(sampleTrace(`line-${i}`, 8_000_000));
}
