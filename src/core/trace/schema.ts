// The one trace schema, `specvet.trace/1`: one JSON object per trajectory, one line per object in
// a .jsonl file. Messages are kept exactly as sent (images as data URLs) so a trace can be replayed,
// resumed, edited and trained on; steps index into messages for their images instead of copying them.
// docs/trace-format.md documents every field; validateTrace is its executable form.

export const TRACE_SCHEMA = 'specvet.trace/1';

export type TraceStatus =
  | 'answered' // the model gave a verdict (check answer.formatOk for the format)
  | 'no_answer' // the model stopped without a tool call and without any readable verdict
  | 'max_turns' // the turn limit was reached before an answer
  | 'error' // the endpoint failed (after retries) or replied with nothing
  | 'cancelled' // the caller aborted
  | 'scripted'; // the built-in inspector: windows shown, no judgement by design

export const TRACE_STATUSES: readonly TraceStatus[] = ['answered', 'no_answer', 'max_turns', 'error', 'cancelled', 'scripted'];

export type WireProtocol = 'hermes' | 'native';

/** How every image in a trace's messages begins: a PNG as a base64 data URL. */
export const PNG_DATA_URL_PREFIX = 'data:image/png;base64,';

/** A content part as the OpenAI chat API takes it. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface WireToolCallRecord {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One chat message exactly as sent to (or received from) the endpoint. */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCallRecord[] }
  | { role: 'tool'; content: string; tool_call_id: string };

export interface TraceSource {
  /** The file as given (path or URI). */
  file: string;
  sha256: string;
  /** Spectrum index in the file (0-based). */
  index: number;
  spectrumId: string;
  survey: string;
  format: string;
  redshift: number | null;
  /** True when the tool read and showed rest-frame wavelengths. */
  restFrame: boolean;
}

export interface TraceGuide {
  id: string;
  version: string;
  sha256: string;
  /** The whole guide file, so the trace stands alone. */
  text: string;
  source: string;
}

export interface TraceEndpoint {
  /** Base URL ("scripted" for the built-in inspector). */
  baseUrl: string;
  model: string;
  protocol: WireProtocol | 'scripted';
  stream: boolean;
  temperature: number | null;
  topP: number | null;
  maxTokens: number | null;
  maxTurns: number;
  /** Names of extra headers sent (never their values: they may hold secrets). */
  headerNames: string[];
}

export interface TraceImageRef {
  /** Rest- or observed-frame window in Å; null for the whole spectrum. */
  window: [number, number] | null;
  width: number;
  height: number;
  /** Where the image's data URL sits: messages[message].content[part]. */
  message: number;
  part: number;
}

export type StepKind = 'think' | 'tool_call' | 'tool_result' | 'answer' | 'forced_zoom' | 'error';

export interface TraceStep {
  kind: StepKind;
  /** Assistant turn this step belongs to (1-based; 0 for the initial overview). */
  turn: number;
  /** Milliseconds since the run started. */
  at: number;
  /** How long it took (model request for think/tool_call/answer, rendering for tool_result). */
  durationMs?: number;
  /** Think text, tool result text, answer text or error message. */
  text?: string;
  /** tool_call: the tool name and the arguments as the model gave them. */
  name?: string;
  arguments?: unknown;
  /** tool_result / forced_zoom: whether the tool accepted the call. */
  ok?: boolean;
  image?: TraceImageRef;
}

export interface TraceAnswer {
  /** Full text of the final assistant turn, or null when there was none. */
  raw: string | null;
  verdict: 'YES' | 'NO' | null;
  formatOk: boolean;
  formatErrors: string[];
}

export interface TraceLabel {
  verdict: 'YES' | 'NO';
  by?: string;
  note?: string;
  at?: string;
}

export type CurationStatus = 'approved' | 'rejected' | 'unreviewed';

export const CURATION_STATUSES: readonly CurationStatus[] = ['approved', 'rejected', 'unreviewed'];

/** A curator's decision on a trajectory as training data (absent = unreviewed). */
export interface TraceCuration {
  status: CurationStatus;
  note?: string;
  /** ISO 8601: when the curator last changed the trajectory or this decision. */
  editedAt?: string;
}

export interface TraceUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface Trace {
  schema: typeof TRACE_SCHEMA;
  id: string;
  /** ISO 8601. */
  createdAt: string;
  source: TraceSource;
  guide: TraceGuide;
  endpoint: TraceEndpoint;
  messages: ChatMessage[];
  steps: TraceStep[];
  answer: TraceAnswer;
  label?: TraceLabel;
  /** Curation for fine-tuning export (optional; absent = unreviewed). */
  curation?: TraceCuration;
  status: TraceStatus;
  /** Why the run ended with status error/cancelled/no_answer/max_turns, in words. */
  error?: string;
  /** Assistant turns taken. */
  turns: number;
  usage: TraceUsage | null;
  totalMs: number;
  client: { name: 'specvet'; version: string };
}

export interface TraceProblem {
  path: string;
  message: string;
}

/** Checks that a parsed JSON value is a `specvet.trace/1` trace; lists every problem with its JSON path. */
export function validateTrace(v: unknown): TraceProblem[] {
  const problems: TraceProblem[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  if (!isObj(v)) return [{ path: '$', message: 'a trace is a JSON object' }];
  if (v.schema !== TRACE_SCHEMA) bad('$.schema', `expected "${TRACE_SCHEMA}", got ${JSON.stringify(v.schema)}`);
  str(v, 'id', '$', bad);
  if (typeof v.createdAt !== 'string' || Number.isNaN(Date.parse(v.createdAt))) bad('$.createdAt', 'must be an ISO 8601 date');
  if (!isObj(v.source)) bad('$.source', 'missing');
  else {
    str(v.source, 'file', '$.source', bad);
    str(v.source, 'sha256', '$.source', bad);
    str(v.source, 'spectrumId', '$.source', bad);
    if (!Number.isInteger(v.source.index) || (v.source.index as number) < 0) bad('$.source.index', 'must be a non-negative integer');
  }
  if (!isObj(v.guide)) bad('$.guide', 'missing');
  else for (const k of ['id', 'version', 'sha256', 'text']) str(v.guide, k, '$.guide', bad);
  if (!isObj(v.endpoint)) bad('$.endpoint', 'missing');
  else {
    str(v.endpoint, 'baseUrl', '$.endpoint', bad);
    str(v.endpoint, 'model', '$.endpoint', bad);
    if (!['hermes', 'native', 'scripted'].includes(v.endpoint.protocol as string)) bad('$.endpoint.protocol', 'must be hermes, native or scripted');
  }
  if (!Array.isArray(v.messages)) bad('$.messages', 'must be an array');
  else
    v.messages.forEach((m, i) => {
      if (!isObj(m) || !['system', 'user', 'assistant', 'tool'].includes(m.role as string)) bad(`$.messages[${i}]`, 'must have role system, user, assistant or tool');
      else if (Array.isArray(m.content)) {
        m.content.forEach((p, j) => {
          if (!isObj(p) || (p.type !== 'text' && p.type !== 'image_url')) bad(`$.messages[${i}].content[${j}]`, 'must be a text or image_url part');
          else if (p.type === 'image_url' && !(isObj(p.image_url) && typeof p.image_url.url === 'string' && p.image_url.url.startsWith(PNG_DATA_URL_PREFIX)))
            bad(`$.messages[${i}].content[${j}]`, 'images must be data:image/png;base64 URLs');
        });
      } else if (typeof m.content !== 'string' && !(m.role === 'assistant' && m.content === null)) bad(`$.messages[${i}].content`, 'must be text or a list of parts');
    });
  if (!Array.isArray(v.steps)) bad('$.steps', 'must be an array');
  else
    v.steps.forEach((s, i) => {
      if (!isObj(s) || !['think', 'tool_call', 'tool_result', 'answer', 'forced_zoom', 'error'].includes(s.kind as string))
        bad(`$.steps[${i}].kind`, 'must be think, tool_call, tool_result, answer, forced_zoom or error');
      else if (s.image !== undefined) {
        const img = s.image;
        const msgs = Array.isArray(v.messages) ? v.messages : [];
        if (!isObj(img) || !Number.isInteger(img.message) || !Number.isInteger(img.part)) bad(`$.steps[${i}].image`, 'must have message and part indices');
        else {
          const m = msgs[img.message as number];
          const part = isObj(m) && Array.isArray(m.content) ? m.content[img.part as number] : undefined;
          if (!isObj(part) || part.type !== 'image_url') bad(`$.steps[${i}].image`, `messages[${img.message}].content[${img.part}] is not an image`);
        }
      }
    });
  if (!isObj(v.answer)) bad('$.answer', 'missing');
  else {
    if (!(v.answer.verdict === 'YES' || v.answer.verdict === 'NO' || v.answer.verdict === null)) bad('$.answer.verdict', 'must be "YES", "NO" or null');
    if (typeof v.answer.formatOk !== 'boolean') bad('$.answer.formatOk', 'must be a boolean');
  }
  if (!TRACE_STATUSES.includes(v.status as TraceStatus)) bad('$.status', `must be one of ${TRACE_STATUSES.join(', ')}`);
  if (v.label !== undefined && !(isObj(v.label) && (v.label.verdict === 'YES' || v.label.verdict === 'NO'))) bad('$.label', 'must be {verdict: "YES"|"NO", ...}');
  if (v.curation !== undefined) {
    const c = v.curation;
    if (!isObj(c) || !CURATION_STATUSES.includes(c.status as CurationStatus)) bad('$.curation', `must be {status: ${CURATION_STATUSES.map((x) => `"${x}"`).join('|')}, note?, editedAt?}`);
    else {
      if (c.note !== undefined && typeof c.note !== 'string') bad('$.curation.note', 'must be a string');
      if (c.editedAt !== undefined && (typeof c.editedAt !== 'string' || Number.isNaN(Date.parse(c.editedAt)))) bad('$.curation.editedAt', 'must be an ISO 8601 date');
    }
  }
  return problems;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, k: string, at: string, bad: (p: string, m: string) => void): void {
  if (typeof o[k] !== 'string') bad(`${at}.${k}`, 'must be a string');
}
