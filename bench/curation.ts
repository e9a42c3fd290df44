// Trace Curator benchmark: what a curator waits for on a large trace file. A real scripted run on
// a real LAMOST fixture is copied into a 1,000-trajectory file (fresh ids), then: open (parse +
// the list message), show one trajectory (view events, export check), one edit (think rewrite),
// a forced zoom (real render), and save (serialise). Prints figures and targets; never fails.
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runAgent } from '../src/core/agent/loop';
import { loadGuide } from '../src/core/guides/guide';
import { openSpectrumFile } from '../src/core/spectrum/open';
import { applyTraceEdit, composeFinalAnswer, renderForcedZoom } from '../src/core/trace/edit';
import { traceLine } from '../src/core/trace/jsonl';
import { TraceFile, curationTraceMessage } from '../src/extension/curation/traceFile';

const N = Number(process.env.SPECVET_BENCH_TRACES ?? 1000);

function root(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(runs: number, fn: () => void): number {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

function line(what: string, ms: number, target: number): void {
  console.log(`${what} ${ms.toFixed(1)} ms (target ≤ ${target} ms) ${ms <= target ? 'OK' : 'MISSED'}`);
}

async function main(): Promise<void> {
  const file = path.join(root(), 'test/fixtures/spectra/spec-55862-B6212_sp06-025.fits');
  const spectrum = openSpectrumFile(file).get(0);
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  // A curated skeleton: the scripted windows plus a final answer, so the export check does its full work.
  const skeleton = await runAgent({ spectrum, source: { file, sha256 }, guide: loadGuide('m-giant'), endpoint: 'scripted' });
  const base = applyTraceEdit(skeleton, { op: 'setFinalAnswer', text: composeFinalAnswer('Deep TiO bands, weak Na I 8183/8195.', 'YES') });
  const lines: Buffer[] = [];
  for (let i = 0; i < N; i++) lines.push(traceLine({ ...base, id: randomUUID(), curation: { status: i % 3 === 0 ? 'approved' : 'unreviewed' } }));
  const bytes = Buffer.concat(lines);
  console.log(`trace file: ${N} trajectories, ${(bytes.length / 1e6).toFixed(1)} MB (${base.turns} turns each)`);

  let f = TraceFile.parse(bytes);
  const open = time(5, () => {
    f = TraceFile.parse(bytes);
    f.documentMessage('bench.jsonl', false, () => false);
  });
  line(`open (parse + list of ${N})`, open, 2000);
  const entry = f.traceEntries[0]; // approved: the export check builds the whole sample
  line('show one trajectory (view events + export check)', time(20, () => curationTraceMessage(f, 'bench.jsonl', entry)), 50);
  let k = 0;
  line('edit: rewrite a think block + new list message', time(20, () => {
    f.apply(entry, f.trace(entry).id, { op: 'setThink', turn: 1, block: 0, text: `Rewritten reasoning ${k++}.` }, new Date().toISOString());
    f.documentMessage('bench.jsonl', true, () => false);
  }), 100);
  line('forced zoom: render with the real tool + insert', time(10, () => {
    const zoom = renderForcedZoom(f.trace(entry), spectrum, [6500, 6600], 'Hα');
    f.apply(entry, f.trace(entry).id, { op: 'insertForcedZoom', afterTurn: 1, zoom }, new Date().toISOString());
  }), 200);
  line(`save (serialise ${(bytes.length / 1e6).toFixed(0)} MB)`, time(5, () => f.serialise()), 1000);
  const mem = process.memoryUsage();
  console.log(`memory: rss ${(mem.rss / 1e6).toFixed(0)} MB, heap ${(mem.heapUsed / 1e6).toFixed(0)} MB for a ${(bytes.length / 1e6).toFixed(0)} MB file`);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
