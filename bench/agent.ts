// Agent loop benchmark: client-side cost per turn, throughput under concurrency, memory over 1,000
// spectra. The vLLM-like server runs in a child process so its CPU is not billed to the client.
// Prints figures and targets; never fails on a missed target.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import OpenAI from 'openai';
import { createEndpointClient, type EndpointSettings } from '../src/core/agent/endpoint';
import { runAgent } from '../src/core/agent/loop';
import { parseAssistantTurn } from '../src/core/agent/parse';
import { loadGuide } from '../src/core/guides/guide';
import { openSpectrumFile } from '../src/core/spectrum/open';
import type { Spectrum } from '../src/core/spectrum/model';
import { TraceWriter } from '../src/core/trace/jsonl';
import type { Trace } from '../src/core/trace/schema';
import { startVllmServer, zoomThenAnswer } from '../test/support/vllm-server';

const FIXTURES = [
  'spec-55862-B6212_sp06-025.fits',
  'spec-57287-KP193637N444141V03_sp10-161.fits.gz',
  'spec-59522-EG224840N075042B03_sp05-172.fits.gz',
  'sdss_dr18_0358-51818-0504.fits',
  'spSpec-52999-1307-323.fit',
];

// Child mode: a server with the given per-turn latency; prints its base URL.
if (process.env.SPECVET_BENCH_SERVER) {
  const latencyMs = Number(process.env.SPECVET_BENCH_SERVER);
  void startVllmServer({ latencyMs, record: false, policy: zoomThenAnswer({ windows: [[6500, 6600], [4800, 4920]], verdict: 'NO' }) }).then((s) => process.stdout.write(JSON.stringify({ baseUrl: s.baseUrl }) + '\n'));
} else {
  void main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

function root(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

async function serverProcess(latencyMs: number): Promise<{ baseUrl: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [__filename], { env: { ...process.env, SPECVET_BENCH_SERVER: String(latencyMs) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.once('exit', (c) => reject(new Error(`bench server exited (${c})`)));
  });
  return { baseUrl: JSON.parse(line).baseUrl, child };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}

function verdict(ok: boolean): string {
  return ok ? 'OK' : 'MISSED';
}

async function main(): Promise<void> {
  const dir = path.join(root(), 'test/fixtures/spectra');
  const spectra: Spectrum[] = FIXTURES.map((f) => openSpectrumFile(path.join(dir, f)).get(0));
  const guide = loadGuide('m-giant');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-bench-'));
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}`);

  // 1. Client-side cost per turn against a zero-latency server.
  {
    const { baseUrl, child } = await serverProcess(0);
    const ep: EndpointSettings = { baseUrl, model: 'spec-o3-7b' };
    const client = createEndpointClient(ep);
    const writer = new TraceWriter(path.join(tmp, 'cost.jsonl'));
    const perTurn: number[] = [];
    const parts = { render: [] as number[], encode: [] as number[], parse: [] as number[], write: [] as number[], wall: [] as number[] };
    for (let i = 0; i < 3; i++) await runAgent({ spectrum: spectra[i % spectra.length], source: { file: 'warmup', sha256: '0' }, guide, endpoint: ep, client }); // warm-up
    for (let i = 0; i < 30; i++) {
      const sp = spectra[i % spectra.length];
      const t0 = performance.now();
      let overviewMs = 0;
      const trace = await runAgent({
        spectrum: sp,
        source: { file: FIXTURES[i % FIXTURES.length], sha256: '0' },
        guide,
        endpoint: ep,
        client,
        onEvent: (e) => {
          if (e.type === 'overview') overviewMs = e.durationMs;
        },
      });
      const wall = performance.now() - t0;
      const w0 = performance.now();
      writer.append(trace);
      const writeMs = performance.now() - w0;
      const turnCosts = turnBreakdown(trace);
      // The overview is rendered once per trajectory: spread it over the trajectory's turns.
      for (const c of turnCosts) c.render += overviewMs / trace.turns;
      for (const c of turnCosts) {
        parts.render.push(c.render);
        parts.encode.push(c.encode);
        parts.parse.push(c.parse);
        parts.write.push(writeMs / trace.turns);
        perTurn.push(c.render + c.encode + c.parse + writeMs / trace.turns);
      }
      parts.wall.push(wall / trace.turns);
    }
    writer.close();
    child.kill();
    const m = median(perTurn);
    console.log(
      `client cost per turn median ${m.toFixed(1)} ms (target < 20 ms) ${verdict(m < 20)}` +
        `  [render ${median(parts.render).toFixed(1)}, encode ${median(parts.encode).toFixed(2)}, parse ${median(parts.parse).toFixed(3)}, write ${median(parts.write).toFixed(2)} ms; wall per turn incl. loopback + server ${median(parts.wall).toFixed(1)} ms]`,
    );
  }

  // 2. Throughput at concurrency 1, 8, 64 against a server taking 200 ms per turn.
  {
    const latency = 200;
    const { baseUrl, child } = await serverProcess(latency);
    const ep: EndpointSettings = { baseUrl, model: 'spec-o3-7b' };
    const client = createEndpointClient(ep);
    for (const c of [1, 8, 64]) {
      const n = Math.max(8, c * 3);
      const cpu0 = process.cpuUsage();
      const r = await pool(n, c, spectra, guide, ep, client, null);
      const ideal = c / (latency / 1000);
      const achieved = r.turns / r.seconds;
      const ratio = achieved / ideal;
      const cpu = process.cpuUsage(cpu0);
      const cpuPerTurn = (cpu.user + cpu.system) / 1000 / r.turns;
      console.log(
        `concurrency ${String(c).padStart(2)}: ${achieved.toFixed(1)} turns/s of ideal ${ideal.toFixed(1)} (= ${c} ÷ ${latency} ms) → ${(ratio * 100).toFixed(0)} % (target ≥ 80 %) ${verdict(ratio >= 0.8)}` +
          `  [${n} spectra, ${r.turns} turns, ${r.seconds.toFixed(2)} s; client CPU ${cpuPerTurn.toFixed(1)} ms/turn → one-thread ceiling ${(1000 / cpuPerTurn).toFixed(0)} turns/s]`,
      );
    }
    child.kill();
  }

  // 3. Memory while vetting 1,000 spectra (files re-read each time, traces appended to disk).
  {
    const { baseUrl, child } = await serverProcess(0);
    const ep: EndpointSettings = { baseUrl, model: 'spec-o3-7b' };
    const client = createEndpointClient(ep);
    const writer = new TraceWriter(path.join(tmp, 'memory.jsonl'));
    const marks: string[] = [];
    const rss: number[] = [];
    await pool(1000, 8, null, guide, ep, client, writer, (done) => {
      if (done === 100 || done === 500 || done === 1000) {
        (globalThis as { gc?: () => void }).gc?.();
        const mb = process.memoryUsage().rss / 2 ** 20;
        rss.push(mb);
        marks.push(`${done}: ${mb.toFixed(0)} MB`);
      }
    });
    writer.close();
    child.kill();
    const growth = rss[2] - rss[0];
    console.log(`RSS while vetting 1,000 spectra: ${marks.join(', ')} (target: flat) ${verdict(growth < 0.1 * rss[0] + 20)}  [growth 100→1000: ${growth.toFixed(0)} MB; traces ${(fs.statSync(path.join(tmp, 'memory.jsonl')).size / 2 ** 20).toFixed(0)} MB on disk]`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Per assistant turn: render of the tool result it led to, JSON encoding of the request it was made from, parsing of the reply. */
function turnBreakdown(trace: Trace): Array<{ render: number; encode: number; parse: number }> {
  const out: Array<{ render: number; encode: number; parse: number }> = [];
  let msgEnd = 0;
  for (let turn = 1; turn <= trace.turns; turn++) {
    // The request for this turn held every message before the turn's assistant message.
    let seen = 0;
    for (let i = 0; i < trace.messages.length; i++) {
      if (trace.messages[i].role === 'assistant' && ++seen === turn) {
        msgEnd = i;
        break;
      }
    }
    const e0 = performance.now();
    JSON.stringify({ model: 'spec-o3-7b', messages: trace.messages.slice(0, msgEnd) });
    const encode = performance.now() - e0;
    const content = (trace.messages[msgEnd] as { content: string }).content;
    const p0 = performance.now();
    parseAssistantTurn(content);
    const parse = performance.now() - p0;
    const render = trace.steps.filter((s) => s.kind === 'tool_result' && s.turn === turn).reduce((a, s) => a + (s.durationMs ?? 0), 0);
    out.push({ render, encode, parse });
  }
  return out;
}

async function pool(
  n: number,
  concurrency: number,
  spectra: Spectrum[] | null,
  guide: ReturnType<typeof loadGuide>,
  ep: EndpointSettings,
  client: OpenAI,
  writer: TraceWriter | null,
  onDone?: (done: number) => void,
): Promise<{ turns: number; seconds: number }> {
  const dir = path.join(root(), 'test/fixtures/spectra');
  let next = 0;
  let done = 0;
  let turns = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const name = FIXTURES[i % FIXTURES.length];
      const spectrum = spectra ? spectra[i % spectra.length] : openSpectrumFile(path.join(dir, name)).get(0);
      const trace = await runAgent({ spectrum, source: { file: name, sha256: '0' }, guide, endpoint: ep, client });
      if (trace.status !== 'answered') throw new Error(`trajectory ended ${trace.status}: ${trace.error}`);
      writer?.append(trace);
      turns += trace.turns;
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { turns, seconds: (performance.now() - t0) / 1000 };
}
