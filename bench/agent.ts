// Agent loop benchmark: client-side cost per turn, throughput under concurrency, memory over 1,000
// spectra. The vLLM-like server runs in a child process so its CPU is not billed to the client; it is
// printed too, because here it shares the two cores with the client and so bounds the throughput.
// Images are drawn by the render worker pool (as in the CLI and the extension); throughput at 64 is
// also measured with drawing on the main thread, for comparison. The machine may be shared: the
// load average is printed with every section. Prints figures and targets; never fails on a missed target.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import OpenAI from 'openai';
import { createEndpointClient, type EndpointSettings } from '../src/core/agent/endpoint';
import { runAgent, type AgentEvent } from '../src/core/agent/loop';
import { configureRenderPool, renderPoolInfo } from '../src/core/render/pool';
import { parseAssistantTurn } from '../src/core/agent/parse';
import { loadGuide } from '../src/core/guides/guide';
import { openSpectrumFile } from '../src/core/spectrum/open';
import type { Spectrum } from '../src/core/spectrum/model';
import { TraceWriter } from '../src/core/trace/jsonl';
import type { Trace } from '../src/core/trace/schema';
import { SPECTRUM_FIXTURES } from '../test/support/paths';
import { startVllmServer, zoomThenAnswer } from '../test/support/vllm-server';
import { mainThreadCpuMs, processCpuMs } from '../test/support/cpu';

/** Sections to run (SPECVET_BENCH_PARTS=cost,throughput,memory; all by default). */
const PARTS = new Set((process.env.SPECVET_BENCH_PARTS || 'cost,throughput,memory').split(',').map((p) => p.trim()));
/** Timed runs per concurrency (SPECVET_BENCH_REPEATS, default 3); the median is reported. */
const REPEATS = Math.max(1, Number(process.env.SPECVET_BENCH_REPEATS ?? 3));
/** Concurrencies of the throughput runs, in order (SPECVET_BENCH_CONCURRENCY=64,64,64 shows the warm-up settle); 1, 8, 64 and 64 without the pool by default. */
const CONCURRENCY = process.env.SPECVET_BENCH_CONCURRENCY ? process.env.SPECVET_BENCH_CONCURRENCY.split(',').map(Number) : null;

/** The LAMOST and SDSS fixtures: one spectrum each. */
const FIXTURES = SPECTRUM_FIXTURES.slice(0, 5);

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

function mean(xs: number[]): string {
  return xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1) : '?';
}

function verdict(ok: boolean): string {
  return ok ? 'OK' : 'MISSED';
}

async function main(): Promise<void> {
  const dir = path.join(root(), 'test/fixtures/spectra');
  const spectra: Spectrum[] = FIXTURES.map((f) => openSpectrumFile(path.join(dir, f)).get(0));
  const guide = loadGuide('m-giant');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-bench-'));
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; render pool: ${renderPoolInfo().size} workers`);

  // 1. Client-side cost per turn against a zero-latency server, one trajectory at a time so each
  //    trajectory's CPU (main thread + render workers; the server is another process) is its own.
  if (PARTS.has('cost')) {
    const { baseUrl, child } = await serverProcess(0);
    const ep: EndpointSettings = { baseUrl, model: 'spec-o3-7b' };
    const client = createEndpointClient(ep);
    const writer = new TraceWriter(path.join(tmp, 'cost.jsonl'));
    const perTurn: number[] = [];
    const parts = { render: [] as number[], main: [] as number[], off: [] as number[], encode: [] as number[], parse: [] as number[], write: [] as number[], wall: [] as number[] };
    for (let i = 0; i < 3; i++) await runAgent({ spectrum: spectra[i % spectra.length], source: { file: 'warmup', sha256: '0' }, guide, endpoint: ep, client }); // warm-up (starts the workers)
    const load0 = os.loadavg()[0];
    for (let i = 0; i < 30; i++) {
      const sp = spectra[i % spectra.length];
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const main0 = mainThreadCpuMs();
      const draw0 = renderPoolInfo().workerRenderMs;
      const trace = await runAgent({ spectrum: sp, source: { file: FIXTURES[i % FIXTURES.length], sha256: '0' }, guide, endpoint: ep, client });
      const w0 = performance.now();
      writer.append(trace);
      const writeMs = performance.now() - w0;
      const cpu = process.cpuUsage(cpu0);
      const main1 = mainThreadCpuMs();
      const wall = performance.now() - t0;
      const n = trace.turns;
      // Process CPU covers the main thread, the render workers and GC threads: everything the client spends.
      const cpuPerTurn = (cpu.user + cpu.system) / 1000 / n;
      perTurn.push(cpuPerTurn);
      parts.render.push((renderPoolInfo().workerRenderMs - draw0) / n);
      if (main0 !== null && main1 !== null) {
        parts.main.push((main1 - main0) / n);
        parts.off.push(cpuPerTurn - (main1 - main0) / n);
      }
      parts.write.push(writeMs / n);
      parts.wall.push(wall / n);
      for (const c of turnBreakdown(trace)) {
        parts.encode.push(c.encode);
        parts.parse.push(c.parse);
      }
    }
    writer.close();
    child.kill();
    const m = median(perTurn);
    console.log(
      `client cost per turn median ${m.toFixed(1)} ms CPU (target < 20 ms) ${verdict(m < 20)}` +
        `  [off the main thread (render workers, GC threads) ${mean(parts.off)}, main thread ${mean(parts.main)} (of which request JSON ${median(parts.encode).toFixed(2)}, reply parse ${median(parts.parse).toFixed(3)}, trace write ${median(parts.write).toFixed(2)}) ms CPU, means;` +
        ` wall per turn incl. loopback + server ${median(parts.wall).toFixed(1)} ms, of which drawing ${median(parts.render).toFixed(1)} ms in a worker; load ${load0.toFixed(1)}]`,
    );
  }

  // 2. Throughput at concurrency 1, 8, 64 against a server taking 200 ms per turn, each after a warm-up
  //    round; 64 once more with drawing on the main thread (pool size 0), the way it was before the pool.
  if (PARTS.has('throughput')) {
    const latency = 200;
    const { baseUrl, child } = await serverProcess(latency);
    const ep: EndpointSettings = { baseUrl, model: 'spec-o3-7b' };
    const client = createEndpointClient(ep);
    const poolSize = renderPoolInfo().size;
    const runs: Array<[number, number]> = CONCURRENCY ? CONCURRENCY.map((c) => [c, poolSize]) : [[1, poolSize], [8, poolSize], [64, poolSize], [64, 0]];
    for (const [c, workers] of runs) {
      configureRenderPool({ size: workers });
      // An untimed round first, at the same concurrency: V8 is still optimising the client, the render
      // workers and the server for several seconds (a cold round at 64 is ~20 points lower, and one
      // after a 3-per-slot warm-up still ~4 lower). A batch of thousands of spectra runs warm, so the
      // warm rate is what is reported.
      await pool(Math.max(8, c * 5), c, spectra, guide, ep, client, null);
      // Then the timed runs, SPECVET_BENCH_PER_SLOT (default 10) spectra per concurrent trajectory,
      // SPECVET_BENCH_REPEATS (default 3) times: the machine's speed drifts from minute to minute, so the
      // median run is reported, with the range. Each run's rate is taken while all c trajectories are in
      // flight and past the start, when all c overviews are drawn at once before any request can go
      // (see PoolRun.steady); the whole run's rate, start and drain included, is printed too.
      const n = Math.max(10, c * Number(process.env.SPECVET_BENCH_PER_SLOT ?? 10));
      const ideal = c / (latency / 1000);
      const timed: Array<{ ratio: number; detail: string }> = [];
      for (let rep = 0; rep < REPEATS; rep++) {
        const load = os.loadavg()[0];
        const cpu0 = process.cpuUsage();
        const main0 = mainThreadCpuMs();
        const server0 = processCpuMs(child.pid);
        const draw0 = renderPoolInfo().workerRenderMs;
        const r = await pool(n, c, spectra, guide, ep, client, null);
        const main1 = mainThreadCpuMs();
        const server1 = processCpuMs(child.pid);
        const serverPerTurn = server0 !== null && server1 !== null ? (server1 - server0) / r.turns : null;
        const drawPerTurn = (renderPoolInfo().workerRenderMs - draw0) / r.turns;
        const mainPerTurn = main0 !== null && main1 !== null ? `${((main1 - main0) / r.turns).toFixed(1)} ms/turn on the main thread` : 'main thread ?';
        const whole = r.turns / r.seconds;
        const achieved = r.steady ? r.steady.turns / r.steady.seconds : whole;
        const span = r.steady ? `sustained ${achieved.toFixed(1)} turns/s over ${r.steady.seconds.toFixed(2)} s (${r.steady.turns} turns) with all ${c} in flight; whole run incl. start and drain ${whole.toFixed(1)} turns/s → ${((whole / ideal) * 100).toFixed(0)} %` : `whole run ${whole.toFixed(1)} turns/s`;
        const cpu = process.cpuUsage(cpu0);
        const cpuPerTurn = (cpu.user + cpu.system) / 1000 / r.turns;
        const where = workers ? `${workers} render workers` : 'drawing on the main thread';
        timed.push({
          ratio: achieved / ideal,
          detail:
            `${span}; ${n} spectra, ${r.turns} turns, ${r.seconds.toFixed(2)} s; ${where}; client CPU ${cpuPerTurn.toFixed(1)} ms/turn (${mainPerTurn}${workers ? `, drawing ${drawPerTurn.toFixed(1)} ms/turn wall in the workers` : ''}) + test server ${serverPerTurn === null ? '?' : serverPerTurn.toFixed(1)} ms/turn` +
            ` → ceiling on ${os.cpus().length} cores ${serverPerTurn === null ? '?' : ((os.cpus().length * 1000) / (cpuPerTurn + serverPerTurn)).toFixed(0)} turns/s; load ${load.toFixed(1)} on ${os.cpus().length} CPUs`,
        });
      }
      const sorted = [...timed].sort((a, b) => a.ratio - b.ratio);
      const mid = sorted[(sorted.length - 1) >> 1];
      const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
      const range = timed.length > 1 ? ` (median of ${timed.length} runs: ${timed.map((t) => pct(t.ratio)).join(', ')})` : '';
      console.log(
        `concurrency ${String(c).padStart(2)}${workers ? '' : ' (no pool)'}: ${(mid.ratio * ideal).toFixed(1)} turns/s of ideal ${ideal.toFixed(1)} (= ${c} ÷ ${latency} ms) → ${pct(mid.ratio)}${range} ${workers ? `(target ≥ 80 %) ${verdict(mid.ratio >= 0.8)}` : '(for comparison: how SpecVet drew before the pool; no target)'}` +
          `  [median run: ${mid.detail}]`,
      );
    }
    configureRenderPool({ size: poolSize });
    child.kill();
  }

  // 3. Memory while vetting 1,000 spectra (files re-read each time, traces appended to disk). RSS is
  //    sampled every 100 spectra; it covers the render workers, whose heaps the main thread's gc()
  //    does not reach, so single samples scatter: flat means the later half stays within the band
  //    of the first half, not that two samples agree.
  if (PARTS.has('memory')) {
    const total = Number(process.env.SPECVET_BENCH_MEMORY_N ?? 1000);
    const { baseUrl, child } = await serverProcess(0);
    const ep: EndpointSettings = { baseUrl, model: 'spec-o3-7b' };
    const client = createEndpointClient(ep);
    const writer = new TraceWriter(path.join(tmp, 'memory.jsonl'));
    const samples: Array<[number, number]> = [];
    await pool(total, 8, null, guide, ep, client, writer, (done) => {
      if (done % 100 !== 0) return;
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      samples.push([done, mem.rss / 2 ** 20]);
      if (process.env.SPECVET_BENCH_MEMORY_TRACE) console.log(`  ${done}: rss ${(mem.rss / 2 ** 20).toFixed(0)} heap ${(mem.heapUsed / 2 ** 20).toFixed(0)}/${(mem.heapTotal / 2 ** 20).toFixed(0)} external ${(mem.external / 2 ** 20).toFixed(0)} arrayBuffers ${(mem.arrayBuffers / 2 ** 20).toFixed(0)} MB`);
    });
    writer.close();
    child.kill();
    const half = Math.ceil(samples.length / 2);
    const first = samples.slice(0, half).map((s) => s[1]);
    const later = samples.slice(half).map((s) => s[1]);
    const growth = Math.max(...later) - Math.max(...first);
    const at = (n: number) => samples.find((s) => s[0] === n)?.[1].toFixed(0) ?? '–';
    console.log(
      `RSS while vetting ${total.toLocaleString('en')} spectra: 100: ${at(100)} MB, ${total / 2}: ${at(total / 2)} MB, ${total}: ${at(total)} MB (target: flat) ${verdict(growth < 0.1 * Math.max(...first) + 20)}` +
        `  [every 100: ${Math.min(...samples.map((s) => s[1])).toFixed(0)}–${Math.max(...samples.map((s) => s[1])).toFixed(0)} MB; peak of the later half − peak of the first half: ${growth.toFixed(0)} MB; includes ${renderPoolInfo().size} render workers; traces ${(fs.statSync(path.join(tmp, 'memory.jsonl')).size / 2 ** 20).toFixed(0)} MB on disk]`,
    );
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Per assistant turn: JSON encoding of the request it was made from, parsing of the reply (both on the main thread). */
function turnBreakdown(trace: Trace): Array<{ encode: number; parse: number }> {
  const out: Array<{ encode: number; parse: number }> = [];
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
    out.push({ encode, parse });
  }
  return out;
}

/** What a pool run did: turns and seconds over the whole run, and the sustained part (see below). */
interface PoolRun {
  turns: number;
  seconds: number;
  /** Turns and seconds while every slot had a trajectory in flight and each had finished one (the start's phase lock gone). */
  steady: { turns: number; seconds: number } | null;
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
): Promise<PoolRun> {
  const dir = path.join(root(), 'test/fixtures/spectra');
  let next = 0;
  let done = 0;
  let turns = 0;
  /** When each reply arrived (ms): a turn ends when its reply is in. */
  const replies: number[] = [];
  /** When each slot finished its first trajectory, and when the first slot found no work left. */
  const firstDone: number[] = [];
  let drainFrom = Infinity;
  const t0 = performance.now();
  const worker = async () => {
    let first = true;
    while (next < n) {
      const i = next++;
      const name = FIXTURES[i % FIXTURES.length];
      const spectrum = spectra ? spectra[i % spectra.length] : openSpectrumFile(path.join(dir, name)).get(0);
      const onEvent = (e: AgentEvent): void => {
        if (e.type === 'assistant_message') replies.push(performance.now());
      };
      const trace = await runAgent({ spectrum, source: { file: name, sha256: '0' }, guide, endpoint: ep, client, onEvent });
      if (trace.status !== 'answered') throw new Error(`trajectory ended ${trace.status}: ${trace.error}`);
      writer?.append(trace);
      turns += trace.turns;
      if (first) firstDone.push(performance.now());
      first = false;
      onDone?.(++done);
    }
    drainFrom = Math.min(drainFrom, performance.now());
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const t1 = performance.now();
  // The sustained window: from the moment every slot has finished its first trajectory (all start
  // together, so at first they draw, wait and reply in step) until the first slot runs out of work
  // (from then on fewer than `concurrency` are in flight). A batch of thousands is almost all window.
  const from = firstDone.length === concurrency ? Math.max(...firstDone) : Infinity;
  const steadyTurns = replies.filter((t) => t >= from && t < drainFrom).length;
  const steady = drainFrom - from > 1000 ? { turns: steadyTurns, seconds: (drainFrom - from) / 1000 } : null;
  return { turns, seconds: (t1 - t0) / 1000, steady };
}
