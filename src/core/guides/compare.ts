// Compare guides: run two guides (or two versions of one, e.g. the working copy and git HEAD) on the
// same spectra with the same endpoint, record both sets of traces as JSONL, and pair the trajectories
// spectrum by spectrum so a guide author sees where the verdicts differ, with a link (file:line and
// trace id) to each side's trace.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type OpenAI from 'openai';
import { createEndpointClient, type EndpointSettings } from '../agent/endpoint';
import { startAgentRun } from '../agent/loop';
import { SpecVetError, errorMessage } from '../errors';
import { parseSpectrumInput, runPool, spectrumJobs } from '../agent/batch';
import type { SpectrumFile } from '../spectrum/model';
import { readTraceFile, TraceWriter } from '../trace/jsonl';
import type { Trace, TraceStatus } from '../trace/schema';
import { parseGuide, type Guide } from './guide';

export interface SpectrumTarget {
  file: string;
  index: number;
  sha256: string;
  spectrumFile: SpectrumFile;
}

export interface TargetProblem {
  file: string;
  message: string;
}

/** Every non-empty spectrum of the given files (`file#3` picks one); catalogues, empty fibres and unreadable files are reported, not thrown. */
export function collectSpectra(files: string[]): { targets: SpectrumTarget[]; problems: TargetProblem[] } {
  const targets: SpectrumTarget[] = [];
  const problems: TargetProblem[] = [];
  for (const job of spectrumJobs(files.map(parseSpectrumInput), { guideId: '' })) {
    if (job.kind === 'run') targets.push({ file: job.file, index: job.index, sha256: job.sha256, spectrumFile: job.spectrumFile });
    else if (job.kind === 'skip') {
      if (job.reason !== 'empty fibre') problems.push({ file: job.file, message: job.reason });
    } else problems.push({ file: job.file, message: job.message });
  }
  return { targets, problems };
}

/** File names the spectrum readers take: .fits, .fit, .fts, each optionally gzipped. */
export const SPECTRUM_FILE_NAME = /\.(fits|fit|fts)(\.gz)?$/i;

/** The spectrum files (by extension) in a folder and its subfolders, sorted. */
export function spectrumFilesIn(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && e.name !== 'node_modules') walk(p);
      } else if (SPECTRUM_FILE_NAME.test(e.name)) out.push(p);
    }
  };
  try {
    walk(dir);
  } catch (err) {
    throw new SpecVetError('io', `cannot list the folder (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, dir);
  }
  return out.sort();
}

/** A guide as committed at `rev` (default HEAD), read with `git show` from the file's repository. */
export function guideFromGit(file: string, rev = 'HEAD'): Promise<Guide> {
  const abs = path.resolve(file);
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', path.dirname(abs), 'show', `${rev}:./${path.basename(abs)}`], { maxBuffer: 8 * 1024 * 1024, timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) {
        const why = (stderr || err.message).trim().split('\n')[0];
        reject(new SpecVetError('io', `cannot read the ${rev} version of the guide from git (${why})`, file));
        return;
      }
      try {
        resolve(parseGuide(stdout, `git:${rev}:${file}`));
      } catch (e) {
        reject(e);
      }
    });
  });
}

export interface TraceLink {
  traceId: string;
  /** The .jsonl file and 1-based line of the trace. */
  file: string;
  line: number;
  verdict: 'YES' | 'NO' | null;
  status: TraceStatus;
  turns: number;
}

export interface ComparisonRow {
  /** `sha256#index`: the same spectrum on both sides. */
  key: string;
  file: string;
  index: number;
  spectrumId: string;
  a: TraceLink | null;
  b: TraceLink | null;
  /** True when the verdicts differ (YES, NO or none) or one side has no trace of the spectrum. */
  differ: boolean;
}

export interface ComparisonSide {
  label: string;
  guideId: string;
  guideVersion: string;
  guideSha256: string;
  tracesFile: string;
  verdicts: { YES: number; NO: number; none: number };
}

export interface GuideComparison {
  a: ComparisonSide;
  b: ComparisonSide;
  rows: ComparisonRow[];
  total: number;
  differences: number;
}

export interface TraceSet {
  label: string;
  file: string;
  traces: Trace[];
  /** 1-based line of each trace in `file` (same order as traces). */
  lines: number[];
}

/** Pairs two sets of traces by spectrum (file sha256 + index); the latest trace of a spectrum counts. */
export function compareTraceSets(a: TraceSet, b: TraceSet): GuideComparison {
  const index = (s: TraceSet) => {
    const m = new Map<string, { trace: Trace; link: TraceLink }>();
    s.traces.forEach((t, i) => m.set(`${t.source.sha256}#${t.source.index}`, { trace: t, link: { traceId: t.id, file: s.file, line: s.lines[i], verdict: t.answer.verdict, status: t.status, turns: t.turns } }));
    return m;
  };
  const ia = index(a);
  const ib = index(b);
  const keys = [...new Set([...ia.keys(), ...ib.keys()])];
  const rows: ComparisonRow[] = keys.map((key) => {
    const x = ia.get(key);
    const y = ib.get(key);
    const t = (x ?? y)!.trace;
    return {
      key,
      file: t.source.file,
      index: t.source.index,
      spectrumId: t.source.spectrumId,
      a: x?.link ?? null,
      b: y?.link ?? null,
      differ: !x || !y || x.link.verdict !== y.link.verdict,
    };
  });
  rows.sort((p, q) => Number(q.differ) - Number(p.differ) || p.file.localeCompare(q.file) || p.index - q.index);
  const side = (s: TraceSet, m: Map<string, { trace: Trace }>): ComparisonSide => {
    const first = s.traces[0];
    const verdicts = { YES: 0, NO: 0, none: 0 };
    for (const { trace } of m.values()) verdicts[trace.answer.verdict ?? 'none']++;
    return { label: s.label, guideId: first?.guide.id ?? '', guideVersion: first?.guide.version ?? '', guideSha256: first?.guide.sha256 ?? '', tracesFile: s.file, verdicts };
  };
  return { a: side(a, ia), b: side(b, ib), rows, total: rows.length, differences: rows.filter((r) => r.differ).length };
}

export interface CompareSideInput {
  guide: Guide;
  /** Shown in the report, e.g. "working copy" or "HEAD". */
  label: string;
  /** The .jsonl file the side's traces are appended to. */
  tracesFile: string;
}

export interface RunComparisonOptions {
  a: CompareSideInput;
  b: CompareSideInput;
  targets: SpectrumTarget[];
  endpoint: EndpointSettings | 'scripted';
  concurrency?: number;
  observedFrame?: boolean;
  signal?: AbortSignal;
  /** After each finished trajectory: how many of the 2 × targets are done. */
  onProgress?: (done: number, total: number, trace: Trace, side: 'a' | 'b') => void;
}

/** Runs both guides on every target (interleaved, bounded concurrency), appends the traces, and compares them. */
export async function runGuideComparison(o: RunComparisonOptions): Promise<GuideComparison> {
  if (path.resolve(o.a.tracesFile) === path.resolve(o.b.tracesFile)) throw new SpecVetError('usage', 'the two sides need different trace files', o.a.tracesFile);
  for (const s of [o.a, o.b]) fs.mkdirSync(path.dirname(path.resolve(s.tracesFile)), { recursive: true });
  const writers = { a: new TraceWriter(o.a.tracesFile), b: new TraceWriter(o.b.tracesFile) };
  const ids = { a: new Set<string>(), b: new Set<string>() };
  const client: OpenAI | undefined = o.endpoint === 'scripted' ? undefined : createEndpointClient(o.endpoint);
  const jobs = o.targets.flatMap((t) => (['a', 'b'] as const).map((side) => ({ t, side })));
  let done = 0;
  const spectra = new Map<string, ReturnType<SpectrumFile['get']>>();
  const work = async ({ t, side }: (typeof jobs)[number]) => {
    const key = `${t.sha256}#${t.index}`;
    let spectrum = spectra.get(key);
    if (!spectrum) {
      spectrum = t.spectrumFile.get(t.index);
      spectra.set(key, spectrum);
    }
    const run = startAgentRun({ spectrum, source: { file: t.file, sha256: t.sha256 }, guide: o[side].guide, endpoint: o.endpoint, client, observedFrame: o.observedFrame, signal: o.signal });
    const trace = await run.done;
    writers[side].append(trace);
    ids[side].add(trace.id);
    // Both sides of this spectrum done: its arrays are no longer needed.
    if (side === 'b') spectra.delete(key);
    o.onProgress?.(++done, jobs.length, trace, side);
  };
  try {
    await runPool(jobs.values(), Math.min(o.concurrency ?? 4, jobs.length || 1), work, o.signal);
  } finally {
    writers.a.close();
    writers.b.close();
  }
  const load = (s: CompareSideInput, only: Set<string>): TraceSet => {
    const r = readTraceFile(s.tracesFile);
    const traces: Trace[] = [];
    const lines: number[] = [];
    r.traces.forEach((t, i) => {
      if (only.has(t.id)) {
        traces.push(t);
        lines.push(r.lines[i]);
      }
    });
    return { label: s.label, file: s.tracesFile, traces, lines };
  };
  return compareTraceSets(load(o.a, ids.a), load(o.b, ids.b));
}

/**
 * The comparison as Markdown: a summary, then one row per spectrum, differences first, with file:line
 * links to both traces (`a.jsonl#L3`, which VS Code opens at that line). Links are relative to
 * `reportDir` when given (the report's folder), so the report still works when the folder moves.
 */
export function comparisonMarkdown(c: GuideComparison, reportDir?: string): string {
  const v = (s: ComparisonSide) => `${s.verdicts.YES} YES, ${s.verdicts.NO} NO, ${s.verdicts.none} without verdict`;
  const target = (file: string) => (reportDir ? path.relative(reportDir, path.resolve(file)).split(path.sep).join('/') : file);
  const link = (l: TraceLink | null) => (l ? `${l.verdict ?? '—'} (${l.status}) [${path.basename(l.file)}:${l.line}](${encodeURI(target(l.file))}#L${l.line}) \`${l.traceId.slice(0, 8)}\`` : 'not run');
  return [
    `# Guide comparison: ${c.differences} of ${c.total} spectra differ`,
    '',
    `- **A** — ${c.a.label}: \`${c.a.guideId}\` v${c.a.guideVersion} (sha256 ${c.a.guideSha256.slice(0, 12)}): ${v(c.a)}; traces ${c.a.tracesFile}`,
    `- **B** — ${c.b.label}: \`${c.b.guideId}\` v${c.b.guideVersion} (sha256 ${c.b.guideSha256.slice(0, 12)}): ${v(c.b)}; traces ${c.b.tracesFile}`,
    '',
    '| | spectrum | file | A | B |',
    '|---|---|---|---|---|',
    ...c.rows.map((r) => `| ${r.differ ? '≠' : '='} | ${r.spectrumId} | ${path.basename(r.file)}#${r.index} | ${link(r.a)} | ${link(r.b)} |`),
    '',
  ].join('\n');
}
