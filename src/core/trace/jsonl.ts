// JSONL trace files: one trace per line. A line is written as one buffer with O_APPEND and fsynced,
// so concurrent appends in one process never interleave. A process killed mid-write can still leave
// a torn tail (Linux may stop a large write at a page boundary on SIGKILL), so every writer first
// cuts a torn tail back to the last newline, and every reader skips and reports damaged lines.
import * as fs from 'node:fs';
import { SpecVetError } from '../errors';
import { TRACE_SCHEMA, validateTrace, type Trace } from './schema';

export interface DamagedLine {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's start. */
  offset: number;
  reason: string;
  /** True for an unterminated last line: what a killed writer leaves. */
  truncated: boolean;
}

export interface TraceReadResult {
  traces: Trace[];
  /** 1-based line number of each trace in `traces` (for links such as file:line). */
  lines: number[];
  damaged: DamagedLine[];
}

/** Reads every trace in a .jsonl file; damaged or invalid lines are skipped and reported, never thrown. */
export function readTraceFile(path: string): TraceReadResult {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    throw new SpecVetError('io', `cannot read trace file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path);
  }
  return parseTraceLines(buf);
}

/** Parses JSONL bytes (exported for callers that hold the bytes, e.g. an editor buffer). */
export function parseTraceLines(buf: Uint8Array): TraceReadResult {
  const traces: Trace[] = [];
  const lines: number[] = [];
  const damaged: DamagedLine[] = [];
  let start = 0;
  let line = 0;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  while (start < buf.length) {
    line++;
    let end = buf.indexOf(10, start);
    const terminated = end >= 0;
    if (!terminated) end = buf.length;
    const text = decoder.decode(buf.subarray(start, end)).trim();
    if (text) {
      let value: unknown;
      try {
        value = JSON.parse(text);
        const problems = validateTrace(value);
        if (problems.length) damaged.push({ line, offset: start, reason: `not a ${TRACE_SCHEMA} trace: ${problems.slice(0, 3).map((p) => `${p.path} ${p.message}`).join('; ')}`, truncated: false });
        else {
          traces.push(value as Trace);
          lines.push(line);
        }
      } catch (err) {
        damaged.push({
          line,
          offset: start,
          reason: terminated ? `invalid JSON (${(err as Error).message})` : `unterminated last line of ${end - start} bytes (the writer was interrupted)`,
          truncated: !terminated,
        });
      }
    }
    start = end + 1;
  }
  return { traces, lines, damaged };
}

export interface RepairResult {
  /** Bytes cut from a torn tail (0 when the file was intact or absent). */
  droppedBytes: number;
}

/** Cuts an unterminated last line (a torn write) so the next append starts on a clean line. */
export function repairTraceFileTail(path: string): RepairResult {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { droppedBytes: 0 };
    throw new SpecVetError('io', `cannot open trace file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return { droppedBytes: 0 };
    // Scan backwards in blocks for the last newline.
    const block = Buffer.alloc(64 * 1024);
    let pos = size;
    let lastNewline = -1;
    while (pos > 0 && lastNewline < 0) {
      const n = Math.min(block.length, pos);
      pos -= n;
      fs.readSync(fd, block, 0, n, pos);
      const i = block.subarray(0, n).lastIndexOf(10);
      if (i >= 0) lastNewline = pos + i;
    }
    const keep = lastNewline + 1;
    if (keep === size) return { droppedBytes: 0 };
    fs.ftruncateSync(fd, keep);
    fs.fsyncSync(fd);
    return { droppedBytes: size - keep };
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends traces to one .jsonl file: whole lines only, durable when `append` returns. */
export class TraceWriter {
  private fd: number;
  readonly repaired: RepairResult;

  constructor(readonly path: string) {
    this.repaired = repairTraceFileTail(path);
    try {
      this.fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    } catch (err) {
      throw new SpecVetError('io', `cannot open trace file for appending (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path);
    }
  }

  append(trace: Trace): void {
    appendLine(this.fd, traceLine(trace), this.path);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** One-shot append (opens, repairs a torn tail, writes one line, fsyncs, closes). */
export function appendTrace(path: string, trace: Trace): void {
  const w = new TraceWriter(path);
  try {
    w.append(trace);
  } finally {
    w.close();
  }
}

/** The exact bytes of a trace's line. */
export function traceLine(trace: Trace): Buffer {
  return Buffer.from(JSON.stringify(trace) + '\n', 'utf8');
}

function appendLine(fd: number, buf: Buffer, path: string): void {
  if (fd < 0) throw new SpecVetError('io', 'trace writer is closed', path);
  try {
    // One write() of the whole line; loop only if the kernel wrote less (it then continues at the end).
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
  } catch (err) {
    throw new SpecVetError('io', `cannot append to trace file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path);
  }
}
