// Hand-curation edits on one trace (issue 6 §5), pure and deterministic: an edit plus its time
// always gives the same trace, so an editor can keep an edit list, undo by snapshot and replay the
// list after a crash (hot exit). Every edit keeps `messages` (what the model saw, what export-sft
// trains on) and `steps` (what the views show) consistent, and the result still validates:
// - assistant turn k is the k-th assistant message; its tool response follows it, then one message
//   per forced zoom recorded with `turn: k` (in both protocols a forced zoom is one user message);
// - think steps are re-read from the assistant text with the one parser (src/core/agent/parse.ts);
// - image references (`steps[].image.message`) are remapped whenever messages move.
import { forcedNative } from '../agent/loop';
import { extractThinks, parseAssistantTurn } from '../agent/parse';
import { hermesToolResponse } from '../agent/prompt';
import { SpecVetError } from '../errors';
import { runZoomTool, ZOOM_TOOL_NAME } from '../render/tool';
import type { Spectrum } from '../spectrum/model';
import { validateTrace, type ChatMessage, type CurationStatus, type Trace, type TraceAnswer, type TraceStep } from './schema';

/** A zoom rendered by the real tool, kept as data so an edit list can be stored and replayed. */
export interface RenderedForcedZoom {
  range: [number, number];
  label?: string;
  /** The tool's text (`Generated spectral visualization …` or its `Error: …`). */
  text: string;
  ok: boolean;
  image: { pngBase64: string; width: number; height: number; window: [number, number] | null } | null;
  renderMs: number;
}

/** One curation edit. Steps and turns are addressed as they are in the trace the edit applies to. */
export type TraceEdit =
  /** Replace think block `block` (0-based, in text order) of assistant turn `turn`; block 0 of a turn without one inserts it. */
  | { op: 'setThink'; turn: number; block: number; text: string }
  /** Delete steps[step]: a think block, a whole tool-call turn (call + result), a forced zoom, the final answer turn, or an error note. */
  | { op: 'deleteStep'; step: number }
  /** Insert a zoom a person chose after turn `afterTurn` (0 = before the first model turn), as the agent loop records one. */
  | { op: 'insertForcedZoom'; afterTurn: number; zoom: RenderedForcedZoom }
  /** Replace (or add) the final assistant turn; the verdict and format flag are re-read with the one parser. */
  | { op: 'setFinalAnswer'; text: string }
  /** The ground-truth label (null removes it). */
  | { op: 'setLabel'; verdict: 'YES' | 'NO' | null; by?: string }
  | { op: 'setCuration'; status: CurationStatus }
  /** The curator's note ('' removes it). */
  | { op: 'setNote'; note: string };

export type TraceEditOp = TraceEdit['op'];

/** Tags whose appearance in edited text would change the structure the parser reads. */
const STRUCTURE_TAGS = /<\/?(think|answer|tool_call|tool_response)>/i;
/** Placeholders LLaMA-Factory reads as media slots (a text holding one would shift the images on export). */
const MEDIA_PLACEHOLDER = /<(image|video|audio)>/i;

/** Applies one edit at time `at` (ISO 8601) and returns the new trace; the input is not changed. Throws SpecVetError('trace') saying why an edit cannot apply. */
export function applyTraceEdit(trace: Trace, edit: TraceEdit, at: string = new Date().toISOString()): Trace {
  const t = structuredClone(trace);
  const where = `trace ${trace.id}`;
  switch (edit.op) {
    case 'setThink':
      setThink(t, edit.turn, edit.block, checkText(edit.text, 'think text', where), where);
      break;
    case 'deleteStep':
      deleteStep(t, edit.step, at, where);
      break;
    case 'insertForcedZoom':
      insertForcedZoom(t, edit.afterTurn, edit.zoom, where);
      break;
    case 'setFinalAnswer':
      setFinalAnswer(t, edit.text, where);
      break;
    case 'setLabel':
      if (edit.verdict === null) delete t.label;
      else if (edit.verdict === 'YES' || edit.verdict === 'NO') t.label = { ...t.label, verdict: edit.verdict, at, ...(edit.by ? { by: edit.by } : {}) };
      else throw new SpecVetError('trace', `a label is YES, NO or none, not ${JSON.stringify(edit.verdict)}`, where);
      break;
    case 'setCuration':
      if (!['approved', 'rejected', 'unreviewed'].includes(edit.status)) throw new SpecVetError('trace', `curation status must be approved, rejected or unreviewed, not ${JSON.stringify(edit.status)}`, where);
      t.curation = { ...t.curation, status: edit.status };
      break;
    case 'setNote': {
      const note = String(edit.note ?? '').trim();
      t.curation = { ...(t.curation ?? { status: 'unreviewed' }) };
      if (note) t.curation.note = note;
      else delete t.curation.note;
      break;
    }
    default:
      throw new SpecVetError('trace', `unknown edit ${JSON.stringify((edit as { op?: unknown }).op)}`, where);
  }
  t.curation = { status: t.curation?.status ?? 'unreviewed', ...t.curation, editedAt: at };
  const problems = validateTrace(t);
  if (problems.length) throw new SpecVetError('trace', `the edit would leave an invalid trace: ${problems.slice(0, 3).map((p) => `${p.path} ${p.message}`).join('; ')}`, where);
  return t;
}

/** Applies edits in order (each with its own time). */
export function applyTraceEdits(trace: Trace, edits: Array<{ edit: TraceEdit; at: string }>): Trace {
  return edits.reduce((t, e) => applyTraceEdit(t, e.edit, e.at), trace);
}

/** A final turn in the trained format: one think block, then the boxed answer. */
export function composeFinalAnswer(think: string, verdict: 'YES' | 'NO', explanation = 'Based on the features examined, the answer is'): string {
  return `<think>\n${think.trim()}\n</think>\n<answer>\n${explanation} \\boxed{${verdict}}.\n</answer>`;
}

/**
 * Runs the real zoom tool on the trace's spectrum exactly as the agent loop would for a forced zoom
 * (same argument object, same frame as the trace's overview). The spectrum must be the trace's own
 * (see locateTraceSpectrum); a bad range gives the tool's own error text and no image, as in a run.
 */
export function renderForcedZoom(trace: Trace, spectrum: Spectrum, range: [number, number], label?: string): RenderedForcedZoom {
  const args: Record<string, unknown> = { wavelength_range: range, ...(label ? { label } : {}) };
  const observedFrame = trace.source.redshift !== null && !trace.source.restFrame;
  const t0 = Date.now();
  const r = runZoomTool(spectrum, JSON.stringify(args), { observedFrame });
  const renderMs = Date.now() - t0;
  return {
    range,
    ...(label ? { label } : {}),
    text: r.text,
    ok: r.ok,
    image: r.ok ? { pngBase64: Buffer.from(r.image.png).toString('base64'), width: r.image.width, height: r.image.height, window: r.window } : null,
    renderMs,
  };
}

// ---- The turn structure -------------------------------------------------------------------------

/** Messages of one assistant turn: the assistant message, its tool response, then its forced zooms. */
interface TurnLayout {
  turn: number;
  /** Index of the assistant message (-1 for turn 0, the opening user turn). */
  assistant: number;
  /** Indices of the tool response messages (tool and/or user). */
  response: number[];
  /** Indices of the forced-zoom messages recorded with this turn, in order. */
  forced: number[];
}

/** Splits messages into turns; throws when the messages and steps do not line up. */
function layout(t: Trace, where: string): TurnLayout[] {
  const assistants = t.messages.flatMap((m, i) => (m.role === 'assistant' ? [i] : []));
  const firstUser = t.messages.findIndex((m) => m.role === 'user');
  const turns: TurnLayout[] = [];
  for (let k = 0; k <= assistants.length; k++) {
    const start = k === 0 ? firstUser + 1 : assistants[k - 1] + 1;
    const end = k < assistants.length ? assistants[k] : t.messages.length;
    const segment: number[] = [];
    for (let i = start; i < end; i++) segment.push(i);
    const nForced = t.steps.filter((s) => s.kind === 'forced_zoom' && s.turn === k).length;
    if (nForced > segment.length) throw new SpecVetError('trace', `turn ${k} records ${nForced} forced zooms but only ${segment.length} messages follow it`, where);
    turns.push({ turn: k, assistant: k === 0 ? -1 : assistants[k - 1], response: segment.slice(0, segment.length - nForced), forced: segment.slice(segment.length - nForced) });
  }
  return turns;
}

function turnLayout(t: Trace, turn: number, where: string): TurnLayout {
  const l = layout(t, where)[turn];
  if (!l || turn < 1) throw new SpecVetError('trace', `there is no assistant turn ${turn} (the trace has ${layout(t, where).length - 1})`, where);
  return l;
}

function assistantMessage(t: Trace, index: number): Extract<ChatMessage, { role: 'assistant' }> {
  return t.messages[index] as Extract<ChatMessage, { role: 'assistant' }>;
}

/** True when assistant turn `turn` is the last message: the final (answer) turn. */
function isFinalTurn(t: Trace, l: TurnLayout): boolean {
  return l.assistant === t.messages.length - 1;
}

/** Removes messages by index and re-points every image reference; steps whose image message is removed must already be gone. */
function removeMessages(t: Trace, remove: Set<number>, where: string): void {
  const map = new Map<number, number>();
  let n = 0;
  t.messages.forEach((_, i) => { if (!remove.has(i)) map.set(i, n++); });
  t.messages = t.messages.filter((_, i) => !remove.has(i));
  for (const s of t.steps) {
    if (!s.image) continue;
    const to = map.get(s.image.message);
    if (to === undefined) throw new SpecVetError('trace', `a ${s.kind} step still points at a removed message`, where);
    s.image.message = to;
  }
}

/** Inserts messages at `index` and shifts image references at or after it. */
function insertMessages(t: Trace, index: number, msgs: ChatMessage[]): void {
  for (const s of t.steps) if (s.image && s.image.message >= index) s.image.message += msgs.length;
  t.messages.splice(index, 0, ...msgs);
}

// ---- Think blocks ---------------------------------------------------------------------------------

interface ThinkSpan {
  /** The block including its tags (what a deletion removes). */
  outer: [number, number];
  /** The text inside the tags (what a rewrite replaces). */
  inner: [number, number];
}

/** The spans of the think blocks extractThinks reads, in the same order (empty blocks skipped, as it does). */
function thinkSpans(text: string): ThinkSpan[] {
  const spans: ThinkSpan[] = [];
  const firstOpen = text.search(/<think>/i);
  const firstClose = text.search(/<\/think>/i);
  // A leading "…</think>" whose opening tag the chat template supplied.
  if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen)) spans.push({ outer: [0, firstClose + '</think>'.length], inner: [0, firstClose] });
  for (const m of text.matchAll(/<think>([\s\S]*?)(?:<\/think>|$)/gi)) {
    const start = m.index;
    spans.push({ outer: [start, start + m[0].length], inner: [start + '<think>'.length, start + '<think>'.length + m[1].length] });
  }
  return spans.filter((s) => text.slice(s.inner[0], s.inner[1]).trim().length > 0);
}

/** Re-reads the think steps of turn `l.turn` from its (edited) assistant text, keeping their timing. */
function rederiveThinks(t: Trace, l: TurnLayout): void {
  const content = assistantMessage(t, l.assistant).content ?? '';
  const thinks = extractThinks(content);
  const old = t.steps.map((s, i) => ({ s, i })).filter(({ s }) => s.turn === l.turn && s.kind === 'think');
  const firstOfTurn = t.steps.findIndex((s) => s.turn === l.turn && s.kind !== 'forced_zoom');
  const template: TraceStep | undefined = old[0]?.s ?? t.steps[firstOfTurn];
  const fresh: TraceStep[] = thinks.map((text) => ({ kind: 'think', turn: l.turn, at: template?.at ?? 0, ...(template?.durationMs !== undefined ? { durationMs: template.durationMs } : {}), text }));
  const at = old.length ? old[0].i : firstOfTurn >= 0 ? firstOfTurn : t.steps.length;
  const oldSet = new Set(old.map((o) => o.i));
  const kept = t.steps.filter((_, i) => !oldSet.has(i));
  const insertAt = at - old.filter((o) => o.i < at).length;
  kept.splice(insertAt, 0, ...fresh);
  t.steps = kept;
  if (isFinalTurn(t, l)) t.answer = answerOf(content);
}

/** The trace's answer from the final assistant text, read as the agent loop reads it. */
function answerOf(content: string): TraceAnswer {
  const parsed = parseAssistantTurn(content);
  const formatErrors = [...parsed.answer.formatErrors];
  if (parsed.toolCall) formatErrors.push('the turn holds both a tool call and an answer');
  return { raw: content, verdict: parsed.answer.verdict, formatOk: parsed.answer.formatOk && !parsed.toolCall, formatErrors };
}

function setThink(t: Trace, turn: number, block: number, text: string, where: string): void {
  const l = turnLayout(t, turn, where);
  const msg = assistantMessage(t, l.assistant);
  const content = msg.content ?? '';
  const spans = thinkSpans(content);
  const before = parseAssistantTurn(content, msg.tool_calls?.map((c) => ({ id: c.id, type: c.type, function: c.function })));
  let next: string;
  if (block >= 0 && block < spans.length) {
    const [a, b] = spans[block].inner;
    const inner = content.slice(a, b);
    const lead = /^\s*/.exec(inner)![0];
    const trail = /\s*$/.exec(inner)![0];
    next = content.slice(0, a) + lead + text + trail + content.slice(b);
  } else if (block === spans.length) {
    // A new block: after the last one, or first in a turn that has none (the scripted inspector's turns).
    const after = spans.length ? spans[spans.length - 1].outer[1] : 0;
    const sep = after > 0 ? '\n' : '';
    const tail = content.slice(after);
    next = `${content.slice(0, after)}${sep}<think>\n${text}\n</think>${tail && !tail.startsWith('\n') ? '\n' : ''}${tail}`;
  } else throw new SpecVetError('trace', `turn ${turn} has ${spans.length} think block(s); there is no block ${block}`, where);
  const after = parseAssistantTurn(next, msg.tool_calls?.map((c) => ({ id: c.id, type: c.type, function: c.function })));
  if (after.toolCallCount !== before.toolCallCount || after.toolCall?.rawArguments !== before.toolCall?.rawArguments || after.hasAnswer !== before.hasAnswer)
    throw new SpecVetError('trace', `rewriting the think block would change the tool call or answer of turn ${turn}`, where);
  msg.content = next;
  rederiveThinks(t, l);
}

// ---- Deleting -------------------------------------------------------------------------------------

function deleteStep(t: Trace, index: number, at: string, where: string): void {
  const step = t.steps[index];
  if (!step) throw new SpecVetError('trace', `there is no step ${index} (the trace has ${t.steps.length})`, where);
  const turns = layout(t, where);
  switch (step.kind) {
    case 'think': {
      const l = turnLayout(t, step.turn, where);
      const msg = assistantMessage(t, l.assistant);
      const content = msg.content ?? '';
      const k = t.steps.slice(0, index).filter((s) => s.kind === 'think' && s.turn === step.turn).length;
      const span = thinkSpans(content)[k];
      if (!span) throw new SpecVetError('trace', `think step ${index} is not in the text of turn ${step.turn}`, where);
      const rest = content.slice(span.outer[1]).replace(/^[ \t]*\n?/, '');
      const next = content.slice(0, span.outer[0]) + rest;
      msg.content = next === '' && msg.tool_calls?.length ? null : next;
      rederiveThinks(t, l);
      return;
    }
    case 'error':
      // A note of what happened (a failed request, a retry); the model never saw it.
      t.steps.splice(index, 1);
      return;
    case 'forced_zoom': {
      const l = turns[step.turn];
      const k = t.steps.slice(0, index).filter((s) => s.kind === 'forced_zoom' && s.turn === step.turn).length;
      const msgIndex = l?.forced[k];
      if (msgIndex === undefined) throw new SpecVetError('trace', `forced zoom step ${index} has no message`, where);
      t.steps.splice(index, 1);
      removeMessages(t, new Set([msgIndex]), where);
      return;
    }
    case 'tool_call':
    case 'tool_result':
    case 'answer': {
      const l = turnLayout(t, step.turn, where);
      const final = isFinalTurn(t, l);
      const remove = new Set([l.assistant, ...l.response]);
      // The turn's own steps go; its forced zooms stay, now after the previous turn.
      t.steps = t.steps.filter((s) => !(s.turn === l.turn && s.kind !== 'forced_zoom'));
      for (const s of t.steps) if (s.turn >= l.turn) s.turn -= 1;
      removeMessages(t, remove, where);
      t.turns = Math.max(0, t.turns - 1);
      if (final) {
        const why = `the final answer was removed in curation (${at})`;
        t.answer = { raw: null, verdict: null, formatOk: false, formatErrors: [why] };
        t.status = 'no_answer';
        t.error = why;
      }
      return;
    }
  }
}

// ---- Forced zooms ---------------------------------------------------------------------------------

function insertForcedZoom(t: Trace, afterTurn: number, zoom: RenderedForcedZoom, where: string): void {
  const turns = layout(t, where);
  const l = turns[afterTurn];
  if (!l || !Number.isInteger(afterTurn)) throw new SpecVetError('trace', `there is no turn ${afterTurn} to insert a zoom after (turns 0–${turns.length - 1})`, where);
  if (afterTurn > 0 && isFinalTurn(t, l)) throw new SpecVetError('trace', `turn ${afterTurn} is the final answer: a zoom after it is never seen by the model; insert it before the answer turn`, where);
  if (!zoom || typeof zoom.text !== 'string' || (zoom.ok && !zoom.image)) throw new SpecVetError('trace', 'the forced zoom has no rendered result', where);
  const png = zoom.image ? new Uint8Array(Buffer.from(zoom.image.pngBase64, 'base64')) : null;
  const image = zoom.image && png ? { png, width: zoom.image.width, height: zoom.image.height, window: zoom.image.window } : null;
  // The messages exactly as the agent loop writes a forced zoom for this protocol.
  const msgs: ChatMessage[] = t.endpoint.protocol === 'native' ? forcedNative(zoom.text, image) : [hermesToolResponse(zoom.text, png)];
  const segmentEnd = Math.max(l.assistant, ...l.response, ...l.forced, l.turn === 0 ? t.messages.findIndex((m) => m.role === 'user') : -1) + 1;
  insertMessages(t, segmentEnd, msgs);
  const m = t.messages[segmentEnd];
  const part = Array.isArray(m.content) ? m.content.findIndex((p) => p.type === 'image_url') : -1;
  const stepAt = t.steps.findIndex((s) => s.turn > afterTurn);
  const insertAt = stepAt < 0 ? t.steps.length : stepAt;
  const prev = t.steps[insertAt - 1];
  const args: Record<string, unknown> = { wavelength_range: zoom.range, ...(zoom.label ? { label: zoom.label } : {}) };
  const step: TraceStep = {
    kind: 'forced_zoom',
    turn: afterTurn,
    at: prev?.at ?? 0,
    durationMs: zoom.renderMs,
    text: zoom.text,
    ok: zoom.ok,
    name: ZOOM_TOOL_NAME,
    arguments: args,
    ...(image && part >= 0 ? { image: { window: image.window, width: image.width, height: image.height, message: segmentEnd, part } } : {}),
  };
  t.steps.splice(insertAt, 0, step);
}

// ---- The final answer -----------------------------------------------------------------------------

function setFinalAnswer(t: Trace, raw: string, where: string): void {
  const text = checkText(raw, 'final answer', where, false);
  const parsed = parseAssistantTurn(text);
  if (parsed.toolCallCount) throw new SpecVetError('trace', 'the final answer holds a tool call; a final turn is a think block and the boxed answer', where);
  if (!parsed.hasAnswer) throw new SpecVetError('trace', 'the final answer has no <answer>…</answer> block (write e.g. <answer>\\boxed{YES}</answer>)', where);
  const turns = layout(t, where);
  const lastTurn = turns[turns.length - 1];
  const last = t.messages[t.messages.length - 1];
  const lastIsAnswer = lastTurn.turn > 0 && isFinalTurn(t, lastTurn) && last.role === 'assistant' && !last.tool_calls?.length && !parseAssistantTurn(last.content).toolCall;
  let turn: number;
  if (lastIsAnswer) {
    turn = lastTurn.turn;
    (last as Extract<ChatMessage, { role: 'assistant' }>).content = text;
  } else {
    turn = lastTurn.turn + 1;
    t.messages.push({ role: 'assistant', content: text });
    t.turns = turn;
  }
  const prevAt = t.steps.filter((s) => s.turn < turn).at(-1)?.at ?? 0;
  const old = t.steps.filter((s) => s.turn === turn && s.kind !== 'forced_zoom');
  const timing = old[0] ? { at: old[0].at, ...(old[0].durationMs !== undefined ? { durationMs: old[0].durationMs } : {}) } : { at: prevAt };
  const fresh: TraceStep[] = [
    ...parsed.thinks.map((x): TraceStep => ({ kind: 'think', turn, ...timing, text: x })),
    { kind: 'answer', turn, ...timing, text: parsed.answer.answerText ?? text },
  ];
  t.steps = [...t.steps.filter((s) => !(s.turn === turn && s.kind !== 'forced_zoom')), ...fresh];
  t.answer = answerOf(text);
  if (t.answer.verdict) {
    t.status = 'answered';
    delete t.error;
  } else {
    t.status = 'no_answer';
    t.error = 'the final answer holds no YES/NO verdict';
  }
}

function checkText(text: unknown, what: string, where: string, plain = true): string {
  if (typeof text !== 'string') throw new SpecVetError('trace', `the ${what} must be text`, where);
  const s = text.trim();
  if (!s) throw new SpecVetError('trace', `the ${what} is empty${plain ? ' (delete the step instead)' : ''}`, where);
  if (plain && STRUCTURE_TAGS.test(s)) throw new SpecVetError('trace', `the ${what} may not contain ${STRUCTURE_TAGS.exec(s)![0]}: it would change the turn's structure`, where);
  const media = MEDIA_PLACEHOLDER.exec(s);
  if (media) throw new SpecVetError('trace', `the ${what} may not contain a literal ${media[0]}: fine-tuning data reads it as an image slot`, where);
  return s;
}
