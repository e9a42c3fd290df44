// The one reader of model output: think blocks, the tool call (from `<tool_call>` text or the
// `tool_calls` field) and the answer, extracted exactly as the Spec-o3 training reward read it
// (protocol page §4). Everything here is pure and total: malformed output yields diagnostics,
// never an exception.

export type Verdict = 'YES' | 'NO';

export interface ParsedToolCall {
  /** Where the call was found. */
  source: 'text' | 'tool_calls';
  /** Tool name as the model wrote it ('' when unreadable). */
  name: string;
  /** Parsed arguments object, or null when they could not be read. */
  arguments: Record<string, unknown> | null;
  /** The arguments exactly as received (JSON text). */
  rawArguments: string;
  /** Why the call could not be read, when it could not. */
  error?: string;
  /** `tool_calls[].id` for the native protocol. */
  id?: string;
}

export interface ExtractedAnswer {
  verdict: Verdict | null;
  /** True only when the whole turn follows the trained format (§4). */
  formatOk: boolean;
  /** What was wrong with the format, in words (empty when formatOk). */
  formatErrors: string[];
  /** Inner text of the answer block that was used, or null. */
  answerText: string | null;
  /** Which rule produced the verdict. */
  via: 'answer' | 'last-answer' | 'boxed' | 'word' | 'none';
}

export interface ParsedTurn {
  /** Texts inside `<think>…</think>` in order (an unclosed or unopened block included). */
  thinks: string[];
  /** The first readable tool call, if any; further calls are reported in `warnings`. */
  toolCall: ParsedToolCall | null;
  /** Number of tool calls found (the protocol allows one per turn). */
  toolCallCount: number;
  /** True when the text holds an `<answer>` tag. */
  hasAnswer: boolean;
  answer: ExtractedAnswer;
  warnings: string[];
}

/** Shape of an OpenAI `tool_calls` entry (complete, after streaming accumulation). */
export interface WireToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

const THINK_OPEN = /<think>/gi;
const THINK_CLOSE = /<\/think>/gi;
const ANSWER_BLOCK = /<answer>([\s\S]*?)<\/answer>/gi;
const BOXED = /\\boxed\{\s*([^{}]*?)\s*\}/gi;
const TOOL_CALL_BLOCK = /<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/gi;

/** Reads one assistant turn. `toolCalls` is the `tool_calls` field when the server parsed calls itself. */
export function parseAssistantTurn(content: string | null | undefined, toolCalls?: WireToolCall[] | null): ParsedTurn {
  const text = content ?? '';
  const warnings: string[] = [];
  const calls: ParsedToolCall[] = [];
  for (const tc of toolCalls ?? []) calls.push(readWireToolCall(tc));
  for (const m of text.matchAll(TOOL_CALL_BLOCK)) calls.push(readTextToolCall(m[1]));
  if (calls.length > 1) warnings.push(`${calls.length} tool calls in one turn; only the first is run (one call per turn)`);
  const hasAnswer = /<answer>/i.test(text);
  return {
    thinks: extractThinks(text),
    toolCall: calls[0] ?? null,
    toolCallCount: calls.length,
    hasAnswer,
    answer: extractAnswer(text),
    warnings,
  };
}

/** Think texts: every `<think>…</think>`; a leading `…</think>` whose opening tag the template supplied; a trailing unclosed block. */
export function extractThinks(text: string): string[] {
  const out: string[] = [];
  const re = /<think>([\s\S]*?)(?:<\/think>|$)/gi;
  const firstOpen = text.search(/<think>/i);
  const firstClose = text.search(/<\/think>/i);
  if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen)) out.push(text.slice(0, firstClose).trim());
  for (const m of text.matchAll(re)) out.push(m[1].trim());
  return out.filter((t) => t.length > 0);
}

/** Answer extraction per protocol §4: strict format first, then the fallbacks, recording every format error. */
export function extractAnswer(text: string): ExtractedAnswer {
  const errors: string[] = [];
  const opens = count(text, THINK_OPEN);
  const closes = count(text, THINK_CLOSE);
  if (opens === 0 && closes === 0) errors.push('no <think>…</think> block');
  else if (opens !== closes) errors.push(`unbalanced think tags (${opens} <think>, ${closes} </think>)`);
  const blocks = [...text.matchAll(ANSWER_BLOCK)].map((m) => m[1]);
  const answerOpens = count(text, /<answer>/gi);
  const answerCloses = count(text, /<\/answer>/gi);
  if (blocks.length === 0) errors.push(answerOpens ? 'unclosed <answer> tag' : 'no <answer>…</answer> block');
  else if (blocks.length > 1 || answerOpens !== answerCloses) errors.push(`${Math.max(blocks.length, answerOpens)} answer blocks (exactly one expected)`);

  if (blocks.length === 1) {
    const v = boxedVerdict(blocks[0]);
    if (v.verdict) return { verdict: v.verdict, formatOk: errors.length === 0, formatErrors: errors, answerText: blocks[0].trim(), via: 'answer' };
    errors.push(v.found ? `answer box holds '${v.found}', not YES or NO` : 'the answer block has no \\boxed{YES} or \\boxed{NO}');
  }
  // Fallback 1: the last <answer> block (an unclosed one counts, up to the end of the text).
  const lastOpen = lastIndexOfTag(text, '<answer>');
  if (lastOpen >= 0) {
    const rest = text.slice(lastOpen + '<answer>'.length);
    const close = rest.search(/<\/answer>/i);
    const inner = close >= 0 ? rest.slice(0, close) : rest;
    const v = boxedVerdict(inner).verdict ?? firstWordVerdict(inner, true);
    if (v) return { verdict: v, formatOk: false, formatErrors: errors, answerText: inner.trim(), via: 'last-answer' };
  }
  // Fallback 2: any \boxed{…} holding YES/NO in the whole text (the last one: a final answer comes last).
  const boxes = [...text.matchAll(BOXED)].map((m) => normaliseVerdict(m[1])).filter((v): v is Verdict => v !== null);
  if (boxes.length) return { verdict: boxes[boxes.length - 1], formatOk: false, formatErrors: errors, answerText: null, via: 'boxed' };
  // Fallback 3: the first standalone YES or NO (upper case: lower-case "no" is ordinary prose in the reasoning).
  const word = firstWordVerdict(text);
  if (word) return { verdict: word, formatOk: false, formatErrors: errors, answerText: null, via: 'word' };
  return { verdict: null, formatOk: false, formatErrors: errors, answerText: null, via: 'none' };
}

function boxedVerdict(s: string): { verdict: Verdict | null; found: string | null } {
  let found: string | null = null;
  for (const m of s.matchAll(BOXED)) {
    const v = normaliseVerdict(m[1]);
    if (v) return { verdict: v, found: m[1] };
    found ??= m[1];
  }
  return { verdict: null, found };
}

function normaliseVerdict(s: string): Verdict | null {
  const t = s.replace(/\\text\{([^}]*)\}/g, '$1').trim().toUpperCase();
  return t === 'YES' ? 'YES' : t === 'NO' ? 'NO' : null;
}

/** First standalone YES/NO; any case inside an answer block, upper case only in free text. */
function firstWordVerdict(s: string, ignoreCase = false): Verdict | null {
  const m = new RegExp('(?<![A-Za-z])(YES|NO)(?![A-Za-z])', ignoreCase ? 'i' : '').exec(s);
  return m ? (m[1].toUpperCase() as Verdict) : null;
}

function count(s: string, re: RegExp): number {
  return [...s.matchAll(new RegExp(re.source, 'gi'))].length;
}

function lastIndexOfTag(s: string, tag: string): number {
  return s.toLowerCase().lastIndexOf(tag);
}

/** `<tool_call>{"name": …, "arguments": {…}}</tool_call>` as the hermes template asks for it. */
function readTextToolCall(inner: string): ParsedToolCall {
  const raw = inner.trim();
  const base: ParsedToolCall = { source: 'text', name: '', arguments: null, rawArguments: raw };
  let obj: unknown;
  try {
    obj = JSON.parse(stripCodeFence(raw));
  } catch (err) {
    return { ...base, error: `the tool call is not valid JSON (${(err as Error).message})` };
  }
  if (!isRecord(obj)) return { ...base, error: 'the tool call must be a JSON object {"name": …, "arguments": {…}}' };
  const name = typeof obj.name === 'string' ? obj.name : '';
  if (!name) return { ...base, error: 'the tool call has no "name"' };
  const argsRaw = obj.arguments ?? obj.parameters ?? {};
  // Keep the arguments exactly as written (12000.0 stays 12000.0): the tool echoes numbers verbatim.
  const rawArguments = typeof argsRaw === 'string' ? argsRaw : (rawObjectText(raw, obj.arguments !== undefined ? 'arguments' : 'parameters') ?? JSON.stringify(argsRaw));
  return { ...readArguments(rawArguments), source: 'text', name };
}

function readWireToolCall(tc: WireToolCall): ParsedToolCall {
  const name = tc.function?.name ?? '';
  const r = readArguments(tc.function?.arguments ?? '');
  return { ...r, source: 'tool_calls', name, id: tc.id, error: r.error ?? (name ? undefined : 'the tool call has no function name') };
}

function readArguments(rawArguments: string): ParsedToolCall {
  const base: ParsedToolCall = { source: 'text', name: '', arguments: null, rawArguments };
  if (rawArguments.trim() === '') return { ...base, arguments: {} };
  let v: unknown;
  try {
    v = JSON.parse(rawArguments);
  } catch (err) {
    return { ...base, error: `the tool arguments are not valid JSON (${(err as Error).message})` };
  }
  // Some models double-encode: "arguments": "{\"wavelength_range\": …}"
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return { ...base, error: 'the tool arguments are a string, not a JSON object' };
    }
  }
  if (!isRecord(v)) return { ...base, error: 'the tool arguments must be a JSON object' };
  return { ...base, arguments: v };
}

/** The exact source text of the JSON object under `"key":` in `json`, or null. */
function rawObjectText(json: string, key: string): string | null {
  const m = new RegExp(`"${key}"\\s*:\\s*\\{`).exec(json);
  if (!m) return null;
  const start = m.index + m[0].length - 1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return json.slice(start, i + 1);
  }
  return null;
}

function stripCodeFence(s: string): string {
  const m = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(s);
  return m ? m[1] : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The text of a `<tool_call>` block for a call, as the hermes template asks the model to write it (Python json.dumps spacing). */
export function formatTextToolCall(name: string, args: Record<string, unknown>): string {
  return `<tool_call>\n${pyJson({ name, arguments: args })}\n</tool_call>`;
}

/** JSON with Python's json.dumps separators (", " and ": "), non-ASCII kept: how the training data spelled calls. */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`;
  return JSON.stringify(v) ?? 'null';
}
