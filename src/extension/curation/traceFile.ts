// A trace file as the curation editor holds it: every line kept (traces, damaged lines, blank
// lines), the current version of each trace, and the bytes to save. No vscode import, so the
// document logic (edits, undo snapshots, backups, serialisation) is tested in plain Node.
//
// Lines are read with the core reader (parseTraceLines), so "damaged" means exactly what
// `specvet export-sft` and `specvet vet --resume` think it means. Saving writes a trace line again
// only when it was edited; every other line goes back byte for byte, damaged ones included.
import { createHash } from 'node:crypto';
import { buildSample } from '../../core/export/sft';
import { applyTraceEdit, renderForcedZoom, type TraceEdit } from '../../core/trace/edit';
import { parseTraceLines } from '../../core/trace/jsonl';
import { TRACE_SCHEMA, type Trace } from '../../core/trace/schema';
import { SpecVetError } from '../../core/errors';
import type { CurationDamagedLine, CurationDocumentMessage, CurationEditSpec, CurationStepInfo, CurationTraceMessage, CurationTraceSummary } from '../../shared/protocol';
import type { Spectrum } from '../../core/spectrum/model';
import { traceToViewEvents, trajectoryInfo } from '../agent/traceEvents';
import { extractThinks } from '../../core/agent/parse';

export type TraceFileLine =
  | { kind: 'trace'; line: number; raw: Uint8Array; trace: Trace; edited: boolean }
  | { kind: 'damaged'; line: number; raw: Uint8Array; reason: string; truncated: boolean }
  | { kind: 'blank'; line: number; raw: Uint8Array };

/** One applied edit: enough to undo, redo, and replay after a restart. */
export interface AppliedEdit {
  entry: number;
  traceId: string;
  edit: TraceEdit;
  /** ISO time the edit was made (replays give the same trace). */
  at: string;
  before: Trace;
  after: Trace;
}

/** A backup record: an edit to replay, or (after undoing past a save) a trace to put back. */
export type BackupRecord = { entry: number; traceId: string; at: string; edit: TraceEdit } | { entry: number; traceId: string; at: string; set: Trace };

/** What a backup (hot exit) holds: the changes since the file's bytes with this sha256. */
export interface CurationBackup {
  schema: 'specvet.curation-backup/1';
  /** sha256 of the file the records apply to. */
  baseSha256: string;
  records: BackupRecord[];
}

export const BACKUP_SCHEMA = 'specvet.curation-backup/1';

export class TraceFile {
  private digest: string | null = null;

  private constructor(
    readonly lines: TraceFileLine[],
    /** True when the bytes ended with a newline. */
    private readonly terminated: boolean,
    private readonly bytes: Buffer,
  ) {}

  /** sha256 of the bytes as read (the base a backup's edits apply to); computed when first asked. */
  get sha256(): string {
    this.digest ??= createHash('sha256').update(this.bytes).digest('hex');
    return this.digest;
  }

  static parse(bytes: Uint8Array): TraceFile {
    const read = parseTraceLines(bytes);
    const traceAt = new Map(read.lines.map((line, i) => [line, read.traces[i]]));
    const damagedAt = new Map(read.damaged.map((d) => [d.line, d]));
    const lines: TraceFileLine[] = [];
    let start = 0;
    let line = 0;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    while (start < buf.length) {
      line++;
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      const raw = buf.subarray(start, end); // a view: lines share the one buffer
      const trace = traceAt.get(line);
      const damaged = damagedAt.get(line);
      if (trace) lines.push({ kind: 'trace', line, raw, trace, edited: false });
      else if (damaged) lines.push({ kind: 'damaged', line, raw, reason: damaged.reason, truncated: damaged.truncated });
      else lines.push({ kind: 'blank', line, raw });
      start = end + 1;
    }
    const terminated = buf.length === 0 || buf[buf.length - 1] === 10;
    return new TraceFile(lines, terminated, buf);
  }

  /** Whether the file holds SpecVet traces, and if not why (for the "reopen as text" message). */
  recognise(): { kind: 'traces' | 'empty' | 'notTraces'; reason: string | null } {
    if (this.lines.some((l) => l.kind === 'trace')) return { kind: 'traces', reason: null };
    const damaged = this.lines.filter((l): l is Extract<TraceFileLine, { kind: 'damaged' }> => l.kind === 'damaged');
    if (!damaged.length) return { kind: 'empty', reason: null };
    // Damaged lines that still name our schema are broken traces, not some other JSONL.
    const ours = damaged.filter((l) => Buffer.from(l.raw).toString('utf8').includes(`"${TRACE_SCHEMA}"`));
    if (ours.length) return { kind: 'traces', reason: null };
    const other = damaged.map((l) => /"schema"\s*:\s*"(specvet\.trace\/[^"]+)"/.exec(Buffer.from(l.raw).toString('utf8'))?.[1]).find(Boolean);
    if (other) return { kind: 'notTraces', reason: `the traces are in format ${other}, which this SpecVet cannot read (it reads ${TRACE_SCHEMA})` };
    const first = damaged[0];
    return { kind: 'notTraces', reason: `no line is a SpecVet trace (a JSON object with "schema": "${TRACE_SCHEMA}"); line ${first.line}: ${first.reason}` };
  }

  /** Entries that are traces. */
  get traceEntries(): number[] {
    return this.lines.flatMap((l, i) => (l.kind === 'trace' ? [i] : []));
  }

  trace(entry: number): Trace {
    const l = this.lines[entry];
    if (!l || l.kind !== 'trace') throw new SpecVetError('trace', `line entry ${entry} is not a trace`);
    return l.trace;
  }

  /** Replaces the trace of `entry` (an edit, an undo or a redo). */
  setTrace(entry: number, trace: Trace, edited = true): void {
    const l = this.lines[entry];
    if (!l || l.kind !== 'trace') throw new SpecVetError('trace', `line entry ${entry} is not a trace`);
    this.lines[entry] = { ...l, trace, edited: l.edited || edited };
  }

  /** Applies an edit to trajectory `entry` and returns the record for the undo stack. */
  apply(entry: number, traceId: string, edit: TraceEdit, at: string): AppliedEdit {
    const before = this.trace(entry);
    if (before.id !== traceId) throw new SpecVetError('trace', `line ${this.lines[entry].line} holds trace ${before.id}, not ${traceId}`);
    const after = applyTraceEdit(before, edit, at);
    this.setTrace(entry, after);
    return { entry, traceId, edit, at, before, after };
  }

  /** The bytes to save: edited traces re-serialised, every other line as it was. */
  serialise(): Uint8Array {
    const parts: Uint8Array[] = [];
    const newline = Buffer.from('\n');
    this.lines.forEach((l, i) => {
      const last = i === this.lines.length - 1;
      // Unedited lines go back as the very bytes read (views, not copies).
      parts.push(l.kind === 'trace' && l.edited ? Buffer.from(JSON.stringify(l.trace), 'utf8') : l.raw);
      // Keep an unterminated damaged tail as it was (a later append repairs it); terminate everything else.
      if (!last || this.terminated || l.kind === 'trace') parts.push(newline);
    });
    return Buffer.concat(parts);
  }

  /**
   * What another writer appended to the file since these bytes were read (a `specvet vet --out`
   * run, a Save trace from the spectrum editor), or null when the file changed in any other way.
   */
  appendedIn(disk: Uint8Array): Uint8Array | null {
    const base = this.bytes;
    if (disk.length < base.length || (base.length > 0 && !this.terminated)) return null;
    if (Buffer.compare(Buffer.from(disk.buffer, disk.byteOffset, base.length), base) !== 0) return null;
    return disk.subarray(base.length);
  }

  /** This file (edits kept, entries unchanged) followed by lines another writer appended. */
  withAppended(tail: Uint8Array): TraceFile {
    if (!tail.length) return this;
    const added = TraceFile.parse(tail);
    const offset = this.lines.length;
    const lines = [...this.lines, ...added.lines.map((l) => ({ ...l, line: l.line + offset }))];
    return new TraceFile(lines, added.terminated, Buffer.concat([this.bytes, Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength)]));
  }

  /** True when `disk` holds exactly the bytes this file was read from. */
  sameBytes(disk: Uint8Array): boolean {
    return disk.length === this.bytes.length && Buffer.compare(Buffer.from(disk.buffer, disk.byteOffset, disk.byteLength), this.bytes) === 0;
  }

  /** A fresh copy of the current state, with nothing marked edited (after a save). */
  markSaved(): TraceFile {
    return TraceFile.parse(this.serialise());
  }

  summaries(modifiedSinceSave: (entry: number) => boolean): CurationTraceSummary[] {
    return this.traceEntries.map((entry) => {
      const l = this.lines[entry] as Extract<TraceFileLine, { kind: 'trace' }>;
      const t = l.trace;
      return {
        entry,
        line: l.line,
        id: t.id,
        createdAt: t.createdAt,
        spectrumId: t.source.spectrumId,
        file: t.source.file.split(/[\\/]/).pop() || t.source.file,
        survey: t.source.survey,
        guideId: t.guide.id,
        guideVersion: t.guide.version,
        model: t.endpoint.model,
        protocol: t.endpoint.protocol,
        status: t.status,
        verdict: t.answer.verdict,
        formatOk: t.answer.formatOk,
        label: t.label?.verdict ?? null,
        curation: t.curation?.status ?? 'unreviewed',
        note: t.curation?.note ?? null,
        turns: t.turns,
        editedAt: t.curation?.editedAt ?? null,
        modified: modifiedSinceSave(entry),
      };
    });
  }

  damaged(): CurationDamagedLine[] {
    return this.lines.flatMap((l) => (l.kind === 'damaged' ? [{ line: l.line, reason: l.reason, truncated: l.truncated }] : []));
  }

  documentMessage(fileName: string, dirty: boolean, modifiedSinceSave: (entry: number) => boolean): CurationDocumentMessage {
    const r = this.recognise();
    return { type: 'curation.document', fileName, kind: r.kind, reason: r.reason, traces: r.kind === 'traces' ? this.summaries(modifiedSinceSave) : [], damaged: this.damaged(), dirty };
  }

  /** Replays a backup's records on this (the saved) file. Records that no longer apply are reported, not thrown. */
  restore(backup: CurationBackup): { problems: string[] } {
    const problems: string[] = [];
    if (backup.baseSha256 !== this.sha256) problems.push('the file changed on disk since the backup was made; edits were re-applied by trajectory id');
    for (const r of backup.records) {
      let entry = r.entry;
      const l = this.lines[entry];
      if (!l || l.kind !== 'trace' || l.trace.id !== r.traceId) {
        entry = this.lines.findIndex((x) => x.kind === 'trace' && x.trace.id === r.traceId);
        if (entry < 0) {
          problems.push(`trajectory ${r.traceId} is no longer in the file; its change was dropped`);
          continue;
        }
      }
      try {
        if ('set' in r) this.setTrace(entry, r.set);
        else this.apply(entry, r.traceId, r.edit, r.at);
      } catch (err) {
        problems.push(`${'edit' in r ? r.edit.op : 'restore'} on ${r.traceId}: ${(err as Error).message}`);
      }
    }
    return { problems };
  }
}

export function parseBackup(text: string, where: string): CurationBackup {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SpecVetError('io', `the curation backup is not valid JSON (${(err as Error).message})`, where);
  }
  const b = v as CurationBackup;
  if (!b || b.schema !== BACKUP_SCHEMA || typeof b.baseSha256 !== 'string' || !Array.isArray(b.records)) throw new SpecVetError('io', `not a ${BACKUP_SCHEMA} backup`, where);
  return b;
}

/** Step facts for editing (think block numbers per turn, as setThink addresses them). */
export function stepInfos(trace: Trace): CurationStepInfo[] {
  const blocks = new Map<number, number>();
  return trace.steps.map((s, index) => {
    let block: number | null = null;
    if (s.kind === 'think') {
      block = blocks.get(s.turn) ?? 0;
      blocks.set(s.turn, block + 1);
    }
    return { index, kind: s.kind, turn: s.turn, text: s.text ?? null, block };
  });
}

/** Assistant turns whose text holds no think block (the scripted inspector's turns). */
export function turnsWithoutThink(trace: Trace): number[] {
  const out: number[] = [];
  let turn = 0;
  for (const m of trace.messages) {
    if (m.role !== 'assistant') continue;
    turn++;
    if (extractThinks(m.content ?? '').length === 0) out.push(turn);
  }
  return out;
}

/** Why export-sft would skip the trace now (approved-only), or null. */
export function exportSkipReason(trace: Trace): string | null {
  const r = buildSample(trace, { approvedOnly: true });
  return 'skip' in r ? r.skip : null;
}

/** One edit request as the document's edit and its undo label. */
export function toTraceEdit(trace: Trace, spec: CurationEditSpec, spectrumFor: (trace: Trace) => Spectrum): { edit: TraceEdit; label: string } {
  switch (spec.op) {
    case 'forceZoom': {
      const r = spec.range;
      if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(r[0] < r[1]))
        throw new SpecVetError('usage', `a zoom range is two increasing wavelengths in Å, e.g. 6500-6600, not ${JSON.stringify(r)}`);
      const zoom = renderForcedZoom(trace, spectrumFor(trace), [r[0], r[1]], spec.label?.trim() || undefined);
      return { edit: { op: 'insertForcedZoom', afterTurn: spec.afterTurn, zoom }, label: `Insert forced zoom ${r[0]}–${r[1]} Å` };
    }
    case 'setThink':
      return { edit: spec, label: `Edit think block (turn ${spec.turn})` };
    case 'deleteStep':
      return { edit: spec, label: `Delete ${trace.steps[spec.step]?.kind.replace('_', ' ') ?? 'step'}` };
    case 'setFinalAnswer':
      return { edit: spec, label: 'Change final answer' };
    case 'setLabel':
      return { edit: spec, label: spec.verdict ? `Label ${spec.verdict}` : 'Clear label' };
    case 'setCuration':
      return { edit: spec, label: spec.status === 'approved' ? 'Approve' : spec.status === 'rejected' ? 'Reject' : 'Mark unreviewed' };
    case 'setNote':
      return { edit: spec, label: 'Edit note' };
    default:
      throw new SpecVetError('usage', `unknown curation edit ${JSON.stringify((spec as { op?: unknown }).op)}`);
  }
}

/** The message showing trajectory `entry`. */
export function curationTraceMessage(file: TraceFile, fileName: string, entry: number, requestId?: number): CurationTraceMessage {
  const line = file.lines[entry];
  if (!line || line.kind !== 'trace') throw new SpecVetError('trace', `there is no trajectory at entry ${entry}`, fileName);
  const t = line.trace;
  const last = t.messages[t.messages.length - 1];
  const finalText = last?.role === 'assistant' && !last.tool_calls?.length && !/<tool_call>/i.test(last.content ?? '') ? (last.content ?? '') : null;
  return {
    type: 'curation.trace',
    ...(requestId !== undefined ? { requestId } : {}),
    entry,
    traceId: t.id,
    info: trajectoryInfo(t, { title: `${t.guide.id} · ${t.source.spectrumId}`, origin: 'file', location: `${fileName}:${line.line}` }),
    events: traceToViewEvents(t),
    steps: stepInfos(t),
    turns: t.turns,
    turnsWithoutThink: turnsWithoutThink(t),
    finalText,
    finalTurn: finalText !== null ? t.turns : null,
    exportSkip: exportSkipReason(t),
  };
}
