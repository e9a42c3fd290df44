// Batch vetting building blocks shared by `specvet vet` and the editor: inputs expanded lazily into
// spectrum jobs (one file open at a time, so memory stays flat over thousands of files), the
// --resume identity of a spectrum, and a bounded worker pool.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { SpecVetError, errorMessage } from '../errors';
import { MAX_FILE_BYTES, readSpectrumFile } from '../spectrum/open';
import type { SpectrumFile } from '../spectrum/model';
import type { Trace, TraceStatus } from '../trace/schema';

export interface SpectrumInput {
  file: string;
  /** One spectrum of the file; all non-empty ones when absent. */
  index?: number;
}

export type SpectrumJob =
  | { kind: 'run'; file: string; sha256: string; spectrumFile: SpectrumFile; index: number }
  | { kind: 'skip'; file: string; index?: number; reason: string }
  | { kind: 'fail'; file: string; index?: number; message: string };

/** Statuses after which a spectrum counts as vetted (errors and cancellations are run again). */
export const FINISHED_STATUSES: ReadonlySet<TraceStatus> = new Set(['answered', 'no_answer', 'max_turns', 'scripted']);

/** Identity of a vetting for --resume: the file's bytes, the spectrum in it and the guide. */
export function vettingKey(sha256: string, index: number, guideId: string): string {
  return `${sha256}#${index}@${guideId}`;
}

/** Keys of the finished trajectories among `traces`. */
export function finishedKeys(traces: Iterable<Trace>): Set<string> {
  const out = new Set<string>();
  for (const t of traces) if (FINISHED_STATUSES.has(t.status)) out.add(vettingKey(t.source.sha256, t.source.index, t.guide.id));
  return out;
}

/** `path#3` → {file: path, index: 3}; anything else is a whole file. */
export function parseSpectrumInput(s: string): SpectrumInput {
  const m = /^(.*)#(\d+)$/.exec(s);
  return m ? { file: m[1], index: Number(m[2]) } : { file: s };
}

/**
 * Jobs for the inputs, produced as they are pulled: each file is read and hashed once, its
 * non-empty spectra become `run` jobs (empty fibres and catalogues `skip`, unreadable files `fail`),
 * and spectra whose key is in `skipKeys` are skipped as already vetted.
 */
export function* spectrumJobs(inputs: Iterable<SpectrumInput>, opts: { guideId: string; skipKeys?: Set<string> }): Generator<SpectrumJob> {
  for (const input of inputs) {
    let spectrumFile: SpectrumFile;
    let sha256: string;
    try {
      const bytes = readSpectrumBytes(input.file);
      sha256 = createHash('sha256').update(bytes).digest('hex');
      spectrumFile = readSpectrumFile(bytes, input.file);
    } catch (err) {
      yield { kind: 'fail', file: input.file, index: input.index, message: errorMessage(err) };
      continue;
    }
    if (spectrumFile.catalog && !spectrumFile.spectra.length) {
      yield { kind: 'skip', file: input.file, reason: 'a redshift catalogue, not a spectrum file' };
      continue;
    }
    let indices: number[];
    if (input.index !== undefined) {
      if (input.index >= spectrumFile.spectra.length) {
        yield { kind: 'fail', file: input.file, index: input.index, message: `spectrum #${input.index} does not exist (the file holds ${spectrumFile.spectra.length})` };
        continue;
      }
      indices = [input.index];
    } else {
      for (const s of spectrumFile.spectra) if (s.empty) yield { kind: 'skip', file: input.file, index: s.index, reason: 'empty fibre' };
      indices = spectrumFile.spectra.filter((s) => !s.empty).map((s) => s.index);
    }
    for (const index of indices) {
      if (opts.skipKeys?.has(vettingKey(sha256, index, opts.guideId))) yield { kind: 'skip', file: input.file, index, reason: 'already vetted (--resume)' };
      else yield { kind: 'run', file: input.file, sha256, spectrumFile, index };
    }
  }
}

/** The bytes of a spectrum file, with the reader's size bound and clear errors. */
export function readSpectrumBytes(file: string): Uint8Array {
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new SpecVetError('io', 'is a directory, not a file', file);
    if (st.size > MAX_FILE_BYTES) throw new SpecVetError('fits-limit', `file of ${st.size} bytes is larger than ${MAX_FILE_BYTES}`, file);
    return fs.readFileSync(file);
  } catch (err) {
    if (err instanceof SpecVetError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpecVetError('io', code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? errorMessage(err)})`, file);
  }
}

/** Runs `work` on every item of `items` with at most `concurrency` in flight; stops pulling once `signal` aborts. */
export async function runPool<T>(items: Iterator<T>, concurrency: number, work: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const worker = async () => {
    while (!signal?.aborted) {
      const next = items.next();
      if (next.done) return;
      await work(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
