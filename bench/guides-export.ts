// Guide authoring and fine-tuning export benchmark. Authoring: what one keystroke costs in a guide
// (validation + label checks, as the debounced diagnostics run them), a hover, and the grammar
// tokenising a long guide with VS Code's engine. Export: a real scripted run on a real LAMOST fixture,
// answered as a curator would, copied into 1,000 approved trajectories (fresh ids, distinct
// reasoning), exported to sharegpt. Prints figures and targets; never fails on a missed target.
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import { INITIAL, Registry, parseRawGrammar } from 'vscode-textmate';
import { runAgent } from '../src/core/agent/loop';
import { exportSft, type SftInput } from '../src/core/export/sft';
import { loadGuide, validateGuide } from '../src/core/guides/guide';
import { lineNameAt } from '../src/core/guides/line-names';
import { lintWindowLabels } from '../src/core/guides/lint';
import { openSpectrumFile } from '../src/core/spectrum/open';
import type { Trace } from '../src/core/trace/schema';

const N = Number(process.env.SPECVET_BENCH_TRACES ?? 1000);

function root(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

function times(runs: number, fn: (i: number) => void): number[] {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn(i);
    t.push(performance.now() - t0);
  }
  return t;
}

function line(what: string, ms: number, target: number, unit = 'ms'): void {
  console.log(`${what} ${ms.toFixed(ms < 0.1 ? 4 : 2)} ${unit} (target ≤ ${target} ${unit}) ${ms <= target ? 'OK' : 'MISSED'}`);
}

async function main(): Promise<void> {
  const repo = root();
  const cv = fs.readFileSync(path.join(repo, 'guides/cv.guide.md'), 'utf8');

  // One keystroke: the text changes, the diagnostics are recomputed from scratch.
  const keystroke = times(2000, (i) => {
    const text = cv.replace('H-alpha 6563 Å', `H-alpha 6563 Å${' '.repeat(i % 3)}`);
    const v = validateGuide(text);
    if (v.guide) lintWindowLabels(text, v.guide.windows);
  });
  line('diagnostics per keystroke (validate + label checks, cv guide) median', quantile(keystroke, 0.5), 2);
  line('diagnostics per keystroke p95', quantile(keystroke, 0.95), 10);

  const body = cv.split('\n');
  const hover = times(5000, (i) => {
    const l = body[15 + (i % 5)] ?? body[15];
    lineNameAt(l, i % Math.max(1, l.length));
  });
  line('hover lookup median', quantile(hover, 0.5), 1);

  // Grammar: a 1,000-line guide (the built-in guides' bodies repeated) with VS Code's TextMate engine.
  const wasm = fs.readFileSync(path.join(repo, 'node_modules/vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (scope === 'text.specvet-guide' ? parseRawGrammar(fs.readFileSync(path.join(repo, 'syntaxes/guide.tmLanguage.json'), 'utf8'), 'guide.tmLanguage.json') : null),
  });
  const grammar = (await registry.loadGrammar('text.specvet-guide'))!;
  const bodies = fs.readdirSync(path.join(repo, 'guides')).map((f) => fs.readFileSync(path.join(repo, 'guides', f), 'utf8').split('\n---\n')[1] ?? '');
  const long = cv.split('\n').slice(0, 20).concat(...Array.from({ length: 60 }, () => bodies.join('\n').split('\n'))).slice(0, 1000);
  const tokenize = times(5, () => {
    let st = INITIAL;
    for (const l of long) st = grammar.tokenizeLine(l, st).ruleStack;
  });
  line(`grammar: tokenise a ${long.length}-line guide, median`, quantile(tokenize, 0.5), 200);

  // Export.
  const file = path.join(repo, 'test/fixtures/spectra/spec-55862-B6212_sp06-025.fits');
  const spectrum = openSpectrumFile(file).get(0);
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const base = await runAgent({ spectrum, source: { file, sha256 }, guide: loadGuide('m-giant'), endpoint: 'scripted' });
  const inputs: SftInput[] = [];
  for (let i = 0; i < N; i++) {
    const t: Trace = structuredClone(base);
    t.id = randomUUID();
    t.messages.push({ role: 'assistant', content: `<think>\nTrajectory ${i}: the TiO band heads are deep and Na I 8183/8195 is weak.\n</think>\n<answer>\\boxed{YES}</answer>` });
    t.curation = { status: 'approved' };
    inputs.push({ trace: t, file: 'bench.jsonl', line: i + 1 });
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-bench-sft-'));
  try {
    const t0 = performance.now();
    const r = exportSft(inputs, { outDir: out, approvedOnly: true });
    const ms = performance.now() - t0;
    const size = fs.statSync(r.datasetFile!).size;
    console.log(`export: ${r.records} trajectories (${base.turns} zooms each), ${r.images.written} distinct images, dataset ${(size / 1e6).toFixed(1)} MB in ${(ms / 1000).toFixed(2)} s`);
    line('export per trajectory', ms / N, 5);
    const t1 = performance.now();
    exportSft(inputs, { outDir: out, approvedOnly: true });
    line('re-export per trajectory (images already there)', (performance.now() - t1) / N, 5);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
