// The core's AgentEvents and saved Traces as the trace panel's TraceViewEvents. No vscode import:
// the headless-browser tests and the latency benchmark feed the panel with exactly these, and the
// curation editor can show a saved trace with traceToViewEvents.
import type { AgentEvent } from '../../core/agent/loop';
import type { Trace, TraceStep } from '../../core/trace/schema';
import type { TraceViewEvent, TrajectoryInfo } from '../../shared/protocol';

/** The [min, max] of a zoom call's arguments, or null when they hold no usable pair of numbers. */
export function toolWindow(args: unknown): [number, number] | null {
  let a: unknown = args;
  if (typeof a === 'string') {
    try {
      a = JSON.parse(a);
    } catch {
      return null;
    }
  }
  const r = a && typeof a === 'object' ? (a as Record<string, unknown>).wavelength_range : undefined;
  if (!Array.isArray(r) || r.length !== 2) return null;
  const lo = Number(r[0]);
  const hi = Number(r[1]);
  return Number.isFinite(lo) && Number.isFinite(hi) && lo < hi ? [lo, hi] : null;
}

function toolLabel(args: unknown): string | null {
  const l = args && typeof args === 'object' ? (args as Record<string, unknown>).label : undefined;
  return typeof l === 'string' && l.trim() ? l : null;
}

/** A live AgentEvent as zero or one panel events. */
export function agentEventToView(e: AgentEvent): TraceViewEvent | null {
  switch (e.type) {
    case 'run_started':
      return null;
    case 'request_started':
      return { kind: 'turn_started', turn: e.turn };
    case 'retry':
      return { kind: 'retry', turn: e.turn, attempt: e.attempt, waitMs: e.waitMs, reason: e.reason, discardPartial: e.discardPartial };
    case 'think_delta':
      return { kind: 'think_delta', turn: e.turn, text: e.text };
    case 'assistant_message':
      return { kind: 'turn_complete', turn: e.turn };
    case 'think':
      return { kind: 'think', turn: e.turn, text: e.text, durationMs: e.step.durationMs ?? null };
    case 'tool_call':
      return { kind: 'tool_call', turn: e.turn, name: e.name, window: toolWindow(e.arguments), label: toolLabel(e.arguments), error: e.error ?? null };
    case 'tool_result':
    case 'forced_zoom':
      return {
        kind: 'image',
        turn: e.turn,
        forced: e.type === 'forced_zoom',
        ok: e.ok,
        text: e.text,
        // A plain Uint8Array owning its bytes (not a Node Buffer on a shared pool): transferred as binary.
        png: e.image ? new Uint8Array(e.image.png) : null,
        width: e.image?.width ?? 0,
        height: e.image?.height ?? 0,
        window: e.image?.window ?? null,
        renderMs: e.step.durationMs ?? null,
      };
    case 'answer':
      return { kind: 'answer', turn: e.turn, verdict: e.answer.verdict, formatOk: e.answer.formatOk, formatErrors: e.answer.formatErrors, text: e.step.text ?? e.answer.raw ?? '' };
    case 'error':
      return { kind: 'error', turn: e.turn, message: e.message };
    case 'finished':
      return finishedEvent(e.trace);
    default:
      return null; // an event kind added to the loop later: not shown until mapped here
  }
}

function finishedEvent(t: Trace): TraceViewEvent {
  return { kind: 'finished', status: t.status, turns: t.turns, totalMs: t.totalMs, error: t.error ?? null, tokens: t.usage ? t.usage.totalTokens : null };
}

/** The PNG bytes a step's image reference points at (messages[m].content[p] data URL). */
export function stepImage(trace: Trace, step: TraceStep): Uint8Array | null {
  const ref = step.image;
  if (!ref) return null;
  const m = trace.messages[ref.message];
  const part = m && Array.isArray(m.content) ? m.content[ref.part] : undefined;
  if (!part || part.type !== 'image_url') return null;
  const url = part.image_url.url;
  const comma = url.indexOf(',');
  return comma < 0 ? null : new Uint8Array(Buffer.from(url.slice(comma + 1), 'base64'));
}

/** A saved (or finished) trace as the events that show it, ending with `finished`. */
export function traceToViewEvents(trace: Trace): TraceViewEvent[] {
  const out: TraceViewEvent[] = [];
  for (const s of trace.steps) {
    switch (s.kind) {
      case 'think':
        out.push({ kind: 'think', turn: s.turn, text: s.text ?? '', durationMs: s.durationMs ?? null });
        break;
      case 'tool_call':
        out.push({ kind: 'tool_call', turn: s.turn, name: s.name ?? '', window: toolWindow(s.arguments), label: toolLabel(s.arguments), error: s.text ?? null }); // a tool_call step's text is the parse error, when there was one
        break;
      case 'tool_result':
      case 'forced_zoom': {
        const png = stepImage(trace, s);
        out.push({
          kind: 'image',
          turn: s.turn,
          forced: s.kind === 'forced_zoom',
          ok: s.ok ?? png !== null,
          text: s.text ?? '',
          png,
          width: s.image?.width ?? 0,
          height: s.image?.height ?? 0,
          window: s.image?.window ?? toolWindow(s.arguments),
          renderMs: s.durationMs ?? null,
        });
        break;
      }
      case 'answer':
        out.push({ kind: 'answer', turn: s.turn, verdict: trace.answer.verdict, formatOk: trace.answer.formatOk, formatErrors: trace.answer.formatErrors, text: s.text ?? trace.answer.raw ?? '' });
        break;
      case 'error':
        out.push({ kind: 'error', turn: s.turn, message: s.text ?? 'error' });
        break;
    }
  }
  out.push(finishedEvent(trace));
  return out;
}

/** Header of a trajectory from its trace (or its run's inputs, when `trace` is the finished one). */
export function trajectoryInfo(trace: Pick<Trace, 'id' | 'createdAt' | 'source' | 'guide' | 'endpoint'>, o: { title: string; origin: 'live' | 'file'; location?: string | null; savedTo?: string | null }): TrajectoryInfo {
  return {
    id: trace.id,
    title: o.title,
    guideId: trace.guide.id,
    guideVersion: trace.guide.version,
    model: trace.endpoint.model,
    endpoint: trace.endpoint.baseUrl,
    protocol: trace.endpoint.protocol,
    origin: o.origin,
    location: o.location ?? null,
    spectrumId: trace.source.spectrumId,
    restFrame: trace.source.restFrame,
    redshift: trace.source.redshift,
    createdAt: trace.createdAt,
    savedTo: o.savedTo ?? null,
  };
}

/**
 * The events of a live trajectory, kept for replaying into a recreated webview. Streamed deltas
 * are merged, and dropped once their turn is complete (the panel replaces them with the parsed steps).
 */
export class ViewEventLog {
  readonly events: TraceViewEvent[] = [];

  push(e: TraceViewEvent): void {
    const last = this.events[this.events.length - 1];
    if (e.kind === 'think_delta' && last?.kind === 'think_delta' && last.turn === e.turn) {
      this.events[this.events.length - 1] = { ...last, text: last.text + e.text };
      return;
    }
    if (e.kind === 'turn_complete' || (e.kind === 'retry' && e.discardPartial)) {
      for (let i = this.events.length - 1; i >= 0; i--) {
        const x = this.events[i];
        if (x.kind === 'think_delta' && x.turn === e.turn) this.events.splice(i, 1);
        else if (x.kind === 'turn_started') break;
      }
    }
    this.events.push(e);
  }
}
