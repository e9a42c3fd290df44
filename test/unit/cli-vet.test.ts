// `specvet vet` as a user runs it: the built CLI in a child process, real fixtures, the vLLM-like server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTraceFile } from '../../src/core/trace/jsonl';
import { fixture, repoRoot } from '../support/paths';
import { startVllmServer, zoomThenAnswer, type VllmServer } from '../support/vllm-server';

const CLI = path.join(repoRoot, 'dist/cli.js');
const LAMOST = fixture('spec-55862-B6212_sp06-025.fits');
const LAMOST_DR10 = fixture('spec-59522-EG224840N075042B03_sp05-172.fits.gz');
const SDSS = fixture('sdss_dr18_0358-51818-0504.fits');
const SECRET = 'sk-cli-secret-5e4d3c2b1a';
let server: VllmServer;

before(async () => {
  server = await startVllmServer({ apiKey: SECRET, policy: zoomThenAnswer({ windows: [[7000, 7700]], verdict: 'YES' }) });
});
after(() => server.close());

function tmpOut(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-vet-')), 'traces.jsonl');
}

function vet(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'vet', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('--endpoint scripted: one line per spectrum, a summary and a complete trace, no model', async () => {
  const out = tmpOut();
  const r = await vet([LAMOST, '--guide', 'm-giant', '--endpoint', 'scripted', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /spec-55862-B6212_sp06-025\.fits#0 .* — {2}scripted {2}5 turns {2}\d+\.\d s$/);
  assert.match(lines[1], /^1 spectrum vetted with guide m-giant v1: 0 YES, 0 NO, 1 without verdict; status scripted 1; .* traces in /);
  const { traces, damaged } = readTraceFile(out);
  assert.deepEqual(damaged, []);
  assert.equal(traces[0].status, 'scripted');
  assert.equal(traces[0].steps.filter((s) => s.kind === 'tool_result' && s.image).length, 5);
});

test('against an endpoint: concurrent trajectories, traces appended, --resume skips what is done; the key stays secret', async () => {
  const out = tmpOut();
  const args = [LAMOST, LAMOST_DR10, SDSS, '--guide', 'carbon', '--endpoint', server.baseUrl, '--model', 'spec-o3-7b', '--concurrency', '2', '--out', out];
  const r = await vet(args, { SPECVET_API_KEY: SECRET });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  for (const l of lines.slice(0, 3)) assert.match(l, / YES {2}answered {2}2 turns {2}\d+\.\d s$/);
  assert.match(lines[3], /^3 spectra vetted with guide carbon v1: 3 YES, 0 NO, 0 without verdict; status answered 3;/);
  const { traces } = readTraceFile(out);
  assert.equal(traces.length, 3);
  assert.ok(!fs.readFileSync(out, 'utf8').includes(SECRET));
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));

  const before = server.chatRequests().length;
  const again = await vet([...args, '--resume'], { SPECVET_API_KEY: SECRET });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(server.chatRequests().length, before, 'no request for vetted spectra');
  assert.equal((again.stdout.match(/already vetted \(--resume\)/g) ?? []).length, 3);
  assert.equal(readTraceFile(out).traces.length, 3);
});

test('--api-key-env names the variable; a wrong key fails fast with exit 1', async () => {
  const out = tmpOut();
  const ok = await vet([LAMOST, '--guide', 'carbon', '--endpoint', server.baseUrl, '--model', 'spec-o3-7b', '--api-key-env', 'MY_VLLM_KEY', '--out', out], { MY_VLLM_KEY: SECRET });
  assert.equal(ok.code, 0, ok.stderr);
  const missing = await vet([LAMOST, '--guide', 'carbon', '--endpoint', server.baseUrl, '--model', 'spec-o3-7b', '--api-key-env', 'MY_VLLM_KEY', '--out', out]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /MY_VLLM_KEY .* is not set/);
  const wrong = await vet([LAMOST, '--guide', 'carbon', '--endpoint', server.baseUrl, '--model', 'spec-o3-7b', '--out', out], { SPECVET_API_KEY: 'sk-wrong' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /rejected the API key \(HTTP 401\)/);
  assert.ok(!wrong.stderr.includes('sk-wrong'));
});

test('an endpoint nobody listens on fails fast with exit 1, naming the refused connection', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const down = await vet([LAMOST, '--guide', 'carbon', '--endpoint', `http://127.0.0.1:${port}/v1`, '--model', 'spec-o3-7b', '--out', tmpOut()]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`cannot reach the endpoint \\(fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
});

test('usage and input errors: exit 2 for usage, 1 for unreadable inputs (the others are still vetted)', async () => {
  const out = tmpOut();
  const noGuide = await vet([LAMOST, '--endpoint', 'scripted', '--out', out]);
  assert.equal(noGuide.code, 2);
  assert.match(noGuide.stderr, /missing --guide/);
  const badGuide = await vet([LAMOST, '--guide', 'quasar', '--endpoint', 'scripted', '--out', out]);
  assert.equal(badGuide.code, 2);
  assert.match(badGuide.stderr, /unknown guide 'quasar'/);
  const badModel = await vet([LAMOST, '--guide', 'cv', '--endpoint', server.baseUrl, '--model', 'gpt-9', '--out', out], { SPECVET_API_KEY: SECRET });
  assert.equal(badModel.code, 1);
  assert.match(badModel.stderr, /does not serve model 'gpt-9'; it serves: spec-o3-7b/);
  const missingFile = await vet([path.join(os.tmpdir(), 'no-such.fits'), LAMOST, '--guide', 'cv', '--endpoint', 'scripted', '--out', out]);
  assert.equal(missingFile.code, 1);
  assert.match(missingFile.stderr, /no-such\.fits.*file not found/);
  assert.match(missingFile.stdout, /^1 spectrum vetted/m);
});

test('a DESI coadd: every fibre with data is vetted, empty fibres are skipped; #index picks one', async () => {
  const out = tmpOut();
  const coadd = fixture('coadd-sv3-dark-26065.fits');
  const r = await vet([coadd, '--guide', 'white-dwarf', '--endpoint', 'scripted', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stdout.match(/skipped: empty fibre/g) ?? []).length, 3);
  assert.deepEqual(readTraceFile(out).traces.map((t) => t.source.index).sort(), [2, 4]);
  const one = await vet([`${coadd}#4`, '--guide', 'white-dwarf', '--endpoint', 'scripted', '--out', out]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /coadd-sv3-dark-26065\.fits#4 {2}39627866878514741 /);
});

test('--list adds inputs; --concurrency bounds the trajectories in flight', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-list-'));
  const list = path.join(dir, 'candidates.txt');
  fs.writeFileSync(list, `# candidates from the night of 2011-11-04\n${LAMOST}\n${LAMOST_DR10}\n\n${SDSS}\n${fixture('spec-57287-KP193637N444141V03_sp10-161.fits.gz')}\n`);
  const slow = await startVllmServer({ latencyMs: 150, policy: zoomThenAnswer({ windows: [[6500, 6600]], verdict: 'NO' }) });
  try {
    const r = await vet(['--list', list, '--guide', 'cv', '--endpoint', slow.baseUrl, '--model', 'spec-o3-7b', '--concurrency', '2', '--out', path.join(dir, 't.jsonl')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^4 spectra vetted with guide cv v1: 0 YES, 4 NO/m);
    assert.equal(slow.peakConnections(), 2);
  } finally {
    await slow.close();
  }
});

test('Ctrl-C: trajectories in flight end as cancelled traces, exit code 130', async () => {
  const hang = await startVllmServer({ policy: () => ({ hang: true }) });
  const out = tmpOut();
  try {
    const child = spawn(process.execPath, [CLI, 'vet', LAMOST, SDSS, '--guide', 'carbon', '--endpoint', hang.baseUrl, '--model', 'spec-o3-7b', '--out', out], { cwd: repoRoot });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    while (hang.openConnections() < 2) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 130);
    const { traces } = readTraceFile(out);
    assert.deepEqual(traces.map((t) => t.status), ['cancelled', 'cancelled']);
    assert.match(stdout, /status cancelled 2/);
  } finally {
    await hang.close();
  }
});

test('--json: one object per spectrum, then a summary object', async () => {
  const out = tmpOut();
  const r = await vet([LAMOST, SDSS, '--guide', 'carbon', '--endpoint', server.baseUrl, '--model', 'spec-o3-7b', '--out', out, '--json'], { SPECVET_API_KEY: SECRET });
  assert.equal(r.code, 0, r.stderr);
  const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(objs.length, 3);
  const ids = new Set(readTraceFile(out).traces.map((t) => t.id));
  for (const o of objs.slice(0, 2)) {
    assert.deepEqual([o.verdict, o.formatOk, o.status, o.turns], ['YES', true, 'answered', 2]);
    assert.ok(ids.has(o.traceId));
  }
  assert.deepEqual(objs[2].summary.verdicts, { YES: 2, NO: 0, none: 0 });
  assert.deepEqual(objs[2].summary.statuses, { answered: 2 });
});

test('a folder stands for every spectrum file below it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-folder-'));
  fs.mkdirSync(path.join(dir, 'night1'));
  fs.copyFileSync(LAMOST, path.join(dir, 'night1', path.basename(LAMOST)));
  fs.copyFileSync(LAMOST_DR10, path.join(dir, path.basename(LAMOST_DR10)));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a spectrum');
  const out = path.join(dir, 'out', 'traces.jsonl');
  const r = await vet([dir, '--guide', 'a-star', '--endpoint', 'scripted', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^2 spectra vetted with guide a-star/m);
  assert.equal(readTraceFile(out).traces.length, 2);
});
