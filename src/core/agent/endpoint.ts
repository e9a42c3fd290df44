// One model request with the loop's retry policy, on the `openai` client. The client's own retries
// are switched off (maxRetries 0) because its waits cannot be cancelled and cannot be reported; here
// every wait honours Retry-After (429 and 5xx), is abortable, and is announced as an event.
// A stream cut mid-way is retried from the start of the turn (the partial text is discarded and the
// `retry` event says so), because nothing of an unfinished turn has entered the conversation yet.
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { SpecVetError } from '../errors';
import type { ChatMessage, WireProtocol } from '../trace/schema';
import { imageUrlBytes } from './image-url';
import type { WireToolCall } from './parse';

export interface EndpointSettings {
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 */
  baseUrl: string;
  /** Served model name (vLLM --served-model-name). */
  model: string;
  /** Secret: sent as a bearer token, never recorded. vLLM without --api-key accepts anything. */
  apiKey?: string | null;
  /** Extra headers (values are never recorded; only their names go into traces). */
  headers?: Record<string, string>;
  /** hermes (default): `<tool_call>` text + `<tool_response>` user turns; native: OpenAI tools/tool_calls. */
  protocol?: WireProtocol;
  /** Stream replies (default true): think text arrives live. */
  stream?: boolean;
  temperature?: number | null;
  topP?: number | null;
  maxTokens?: number | null;
  /** Assistant turns allowed per trajectory (default 8, as in training). */
  maxTurns?: number;
  /** Limit for one model request, headers to last byte (default 180 s). */
  timeoutMs?: number;
  /** Retries per model request after a 408/409/429/5xx, a dropped connection, a timeout or a cut stream (default 3). */
  retries?: number;
  /** Longest wait accepted between attempts, Retry-After included (default 120 s); a longer Retry-After ends the run. */
  maxRetryWaitMs?: number;
}

/** Immediate resends per request after a connection closed before any reply (see requestTurn). */
const MAX_RESENDS = 3;

export const ENDPOINT_DEFAULTS = {
  protocol: 'hermes' as WireProtocol,
  stream: true,
  maxTurns: 8,
  timeoutMs: 180_000,
  retries: 3,
  maxRetryWaitMs: 120_000,
};

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface TurnReply {
  content: string;
  toolCalls: WireToolCall[];
  finishReason: string | null;
  usage: { prompt: number; completion: number } | null;
  durationMs: number;
  attempts: number;
}

export interface RetryNotice {
  attempt: number;
  waitMs: number;
  reason: string;
  /** Streamed text of the failed attempt must be discarded by whoever showed it. */
  discardPartial: boolean;
}

export interface TurnRequest {
  messages: ChatMessage[];
  tools: ToolDefinition[];
  signal?: AbortSignal;
  onDelta?: (text: string) => void;
  onRetry?: (n: RetryNotice) => void;
}

/** Why a request ended without a reply. `cancelled` is the caller's abort. */
export class EndpointFailure extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
  }
}

/**
 * Images cross the `openai` client as placeholders, and the client's fetch splices their bytes back
 * into the body. Every request carries all of the trajectory's earlier images (40–80 KB of base64
 * each); JSON-escaping and UTF-8-encoding them again for every request cost 0.6–1 ms of main-thread
 * CPU per request (more once a guide's "Å" makes the whole body a two-byte string): the largest
 * item of the client's cost at 64 concurrent trajectories. Each image is encoded once instead, and
 * the body sent parses to exactly what JSON.stringify wrote.
 */
const IMAGE_MARK = `specvet-image-${randomBytes(8).toString('hex')}-`;
const NON_ASCII = /[\u0080-\uffff]/g;
/** Placeholder → image bytes, while its request runs. */
const pendingImages = new Map<string, Buffer>();
let placeholderSeq = 0;
/** Clients whose fetch splices images (made by createEndpointClient). */
const splicingClients = new WeakSet<OpenAI>();

/** The messages with each image URL replaced by a placeholder registered in `placeholders`. */
function withImagePlaceholders(messages: ChatMessage[], placeholders: string[]): ChatMessage[] {
  return messages.map((m) => {
    if (!Array.isArray(m.content) || !m.content.some((p) => p.type === 'image_url')) return m;
    const content = m.content.map((p) => {
      if (p.type !== 'image_url') return p;
      let bytes = imageUrlBytes.get(p.image_url);
      if (bytes === undefined) {
        // An image_url not made by pngImageUrl (a trace read back, a copied message).
        // ASCII that JSON leaves as it is (a regular expression over 70 KB cost as much as the splice saves).
        const url = p.image_url.url;
        bytes = Buffer.byteLength(JSON.stringify(url), 'utf8') === url.length + 2 ? Buffer.from(url, 'latin1') : null;
        imageUrlBytes.set(p.image_url, bytes);
      }
      if (!bytes) return p;
      const placeholder = `${IMAGE_MARK}${placeholderSeq++}`;
      pendingImages.set(placeholder, bytes);
      placeholders.push(placeholder);
      return { type: 'image_url' as const, image_url: { url: placeholder } };
    });
    return { ...m, content } as ChatMessage;
  });
}

/**
 * A JSON request body as bytes, with the pending images spliced in for their placeholders, and every
 * non-ASCII character written as a \u escape: one "Å" in a guide otherwise makes the server's copy
 * of the whole body (every image included) a two-byte string, which parsed 2.5× slower in Node's
 * JSON.parse (Python's json.loads likewise scans such a body as UCS-2).
 */
function bodyBytes(text: string): Buffer {
  const json = text.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  let at = json.indexOf(IMAGE_MARK);
  if (at < 0) return Buffer.from(json, 'latin1');
  const pieces: Buffer[] = [];
  let from = 0;
  while (at >= 0) {
    const end = json.indexOf('"', at); // a placeholder is a whole JSON string
    const bytes = pendingImages.get(json.slice(at, end));
    if (bytes) {
      pieces.push(Buffer.from(json.slice(from, at), 'latin1'), bytes);
      from = end;
    }
    at = json.indexOf(IMAGE_MARK, end);
  }
  pieces.push(Buffer.from(json.slice(from), 'latin1'));
  return Buffer.concat(pieces);
}

/**
 * fetch with a string body handed over as bytes (images spliced in, ASCII only): for a string, undici
 * first rewrites it as a USVString (a scan for lone surrogates) before encoding it.
 */
const fetchWithByteBody: typeof fetch = (input, init) => (typeof init?.body === 'string' ? fetch(input, { ...init, body: bodyBytes(init.body) }) : fetch(input, init));

export function createEndpointClient(s: EndpointSettings): OpenAI {
  if (!/^https?:\/\//i.test(s.baseUrl)) throw new SpecVetError('usage', `endpoint must be an http(s) URL, got '${s.baseUrl}'`, 'endpoint');
  const client = new OpenAI({
    baseURL: s.baseUrl.replace(/\/+$/, ''),
    apiKey: s.apiKey || 'EMPTY',
    defaultHeaders: s.headers,
    maxRetries: 0,
    timeout: s.timeoutMs ?? ENDPOINT_DEFAULTS.timeoutMs,
    fetch: fetchWithByteBody,
  });
  splicingClients.add(client);
  return client;
}

/** One assistant turn: request (streamed or not), accumulate, retry per policy. Throws EndpointFailure only. */
export async function requestTurn(client: OpenAI, s: EndpointSettings, req: TurnRequest): Promise<TurnReply> {
  const protocol = s.protocol ?? ENDPOINT_DEFAULTS.protocol;
  const stream = s.stream ?? ENDPOINT_DEFAULTS.stream;
  const retries = s.retries ?? ENDPOINT_DEFAULTS.retries;
  const timeoutMs = s.timeoutMs ?? ENDPOINT_DEFAULTS.timeoutMs;
  const maxWait = s.maxRetryWaitMs ?? ENDPOINT_DEFAULTS.maxRetryWaitMs;
  const placeholders: string[] = [];
  const body: Record<string, unknown> = {
    model: s.model,
    messages: splicingClients.has(client) ? withImagePlaceholders(req.messages, placeholders) : req.messages,
    tools: req.tools,
    // hermes: tools go into the prompt (as in training) but the server must not parse calls; see protocol §3.
    tool_choice: protocol === 'hermes' ? 'none' : 'auto',
  };
  if (s.temperature != null) body.temperature = s.temperature;
  if (s.topP != null) body.top_p = s.topP;
  if (s.maxTokens != null) body.max_tokens = s.maxTokens;
  const started = Date.now();
  // Resends after the endpoint closed the connection before replying. A client keeps connections
  // open between requests; a server that times one out just as it is reused resets the request
  // (idle timeouts of proxies and servers vary, and clients cannot see them). Sending again at once
  // is what HTTP clients do for a request lost that way; it is not the endpoint failing, so it does
  // not use up the retries. A few only: every pooled connection may be as old as the first.
  let resends = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      if (req.signal?.aborted) throw new EndpointFailure('cancelled', true);
      const ctl = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ctl.abort();
      }, timeoutMs);
      const onAbort = () => ctl.abort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      let streamedChars = 0;
      try {
        const reply = stream
          ? await streamOnce(client, body, ctl.signal, timeoutMs, (t) => {
              streamedChars += t.length;
              req.onDelta?.(t);
            })
          : await completeOnce(client, body, ctl.signal, timeoutMs);
        return { ...reply, durationMs: Date.now() - started, attempts: attempt };
      } catch (err) {
        if (req.signal?.aborted) throw new EndpointFailure('cancelled', true);
        const c = classify(err, timedOut, timeoutMs, streamedChars);
        if (c.closedBeforeReply && resends < MAX_RESENDS) {
          resends++;
          req.onRetry?.({ attempt, waitMs: 0, reason: `${c.message}; sending again`, discardPartial: false });
          continue;
        }
        if (!c.retryable || attempt - resends > retries) {
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          throw new EndpointFailure(`${c.message}${tries}`, false);
        }
        let waitMs = c.retryAfterMs ?? backoffMs(attempt - resends);
        if (waitMs > maxWait) {
          if (c.retryAfterMs !== undefined) throw new EndpointFailure(`${c.message}; the server asks to retry after ${Math.ceil(waitMs / 1000)} s, beyond the ${Math.round(maxWait / 1000)} s limit`, false);
          waitMs = maxWait;
        }
        req.onRetry?.({ attempt, waitMs, reason: c.message, discardPartial: streamedChars > 0 });
        await sleep(waitMs, req.signal);
      } finally {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      }
    }
  } finally {
    for (const p of placeholders) pendingImages.delete(p);
  }
}

async function streamOnce(client: OpenAI, body: Record<string, unknown>, signal: AbortSignal, timeoutMs: number, onDelta: (t: string) => void): Promise<Omit<TurnReply, 'durationMs' | 'attempts'>> {
  const stream = await client.chat.completions.create(
    { ...(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming), stream: true, stream_options: { include_usage: true } },
    { signal, timeout: timeoutMs, maxRetries: 0 },
  );
  let content = '';
  let finishReason: string | null = null;
  let usage: TurnReply['usage'] = null;
  const calls: Array<{ id?: string; name: string; arguments: string }> = [];
  for await (const chunk of stream) {
    if (chunk.usage) usage = { prompt: chunk.usage.prompt_tokens ?? 0, completion: chunk.usage.completion_tokens ?? 0 };
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const d = choice.delta;
    if (d?.content) {
      content += d.content;
      onDelta(d.content);
    }
    for (const tc of d?.tool_calls ?? []) {
      const i = tc.index ?? 0;
      calls[i] ??= { name: '', arguments: '' };
      if (tc.id) calls[i].id = tc.id;
      if (tc.function?.name) calls[i].name += tc.function.name;
      if (tc.function?.arguments) calls[i].arguments += tc.function.arguments;
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  if (!finishReason) throw new StreamCut();
  return {
    content,
    toolCalls: calls.filter(Boolean).map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    finishReason,
    usage,
  };
}

async function completeOnce(client: OpenAI, body: Record<string, unknown>, signal: AbortSignal, timeoutMs: number): Promise<Omit<TurnReply, 'durationMs' | 'attempts'>> {
  const res = await client.chat.completions.create({ ...(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming), stream: false }, { signal, timeout: timeoutMs, maxRetries: 0 });
  const choice = res.choices?.[0];
  if (!choice) throw new MalformedReply('the reply has no choices');
  const msg = choice.message;
  return {
    content: msg?.content ?? '',
    toolCalls: (msg?.tool_calls ?? []).map((c) => ({ id: c.id, type: 'function', function: c.type === 'function' ? { name: c.function.name, arguments: c.function.arguments } : { name: '', arguments: '' } })),
    finishReason: choice.finish_reason ?? null,
    usage: res.usage ? { prompt: res.usage.prompt_tokens, completion: res.usage.completion_tokens } : null,
  };
}

class StreamCut extends Error {}
class MalformedReply extends Error {}

interface Classified {
  retryable: boolean;
  message: string;
  retryAfterMs?: number;
  /** The connection closed before any reply: most likely a kept-alive connection the server had just timed out. */
  closedBeforeReply?: boolean;
}

/** Socket errors that mean the other side closed the connection (undici's 'other side closed' is UND_ERR_SOCKET). */
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** The messages down an error's cause chain ("fetch failed: read ECONNRESET"), and whether a closed-connection code is among them. */
export function causes(err: unknown): { text: string; closed: boolean } {
  const parts: string[] = [];
  let closed = false;
  for (let c: unknown = err, depth = 0; c instanceof Error && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && CLOSED_CODES.has(code)) closed = true;
    if (c.message && !parts.includes(c.message)) parts.push(c.message);
  }
  return { text: parts.join(': '), closed };
}

/** A connection that failed before the reply began, or dropped part-way through it (retryable either way). */
function connectionLost(why: string, streamedChars: number): Classified {
  return { retryable: true, message: streamedChars > 0 ? `the connection dropped mid-reply after ${streamedChars} characters (${why})` : `cannot reach the endpoint (${why})` };
}

function classify(err: unknown, timedOut: boolean, timeoutMs: number, streamedChars: number): Classified {
  if (timedOut) return { retryable: true, message: `no complete reply within ${Math.round(timeoutMs / 1000)} s` };
  if (err instanceof StreamCut) return { retryable: true, message: `the reply stream ended before the turn was complete (${streamedChars} characters received)` };
  if (err instanceof MalformedReply) return { retryable: true, message: err.message };
  if (err instanceof OpenAI.APIConnectionError) {
    if (err instanceof OpenAI.APIConnectionTimeoutError) return { retryable: true, message: `no reply within ${Math.round(timeoutMs / 1000)} s` };
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error ? causes(cause) : { text: err.message, closed: false };
    if (streamedChars === 0 && why.closed) return { retryable: true, message: `the endpoint closed the connection before replying (${why.text})`, closedBeforeReply: true };
    return connectionLost(why.text, streamedChars);
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status = err.status;
    const retryAfterMs = retryAfter(err.headers);
    const detail = serverMessage(err);
    if (status === 401 || status === 403) return { retryable: false, message: `the endpoint rejected the API key (HTTP ${status}${detail ? `: ${detail}` : ''})` };
    if (status === 404) return { retryable: false, message: `the endpoint has no such model or path (HTTP 404${detail ? `: ${detail}` : ''})` };
    if (status === 408 || status === 409 || status === 429 || status >= 500)
      return { retryable: true, message: `the endpoint answered HTTP ${status}${detail ? `: ${detail}` : ''}`, retryAfterMs };
    return { retryable: false, message: `the endpoint refused the request (HTTP ${status}${detail ? `: ${detail}` : ''})` };
  }
  if (err instanceof OpenAI.APIError) return { retryable: true, message: `the endpoint reported an error mid-reply: ${serverMessage(err) || err.message}` };
  if (err instanceof TypeError) {
    return connectionLost(causes(err).text, streamedChars);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { retryable: streamedChars > 0 || /terminated|socket|ECONN|EPIPE/i.test(msg), message: streamedChars > 0 ? `the reply stream broke after ${streamedChars} characters (${msg})` : `request failed (${msg})` };
}

function serverMessage(err: InstanceType<typeof OpenAI.APIError>): string {
  const e = err.error as { message?: unknown } | undefined;
  const m = typeof e?.message === 'string' ? e.message : '';
  return m.slice(0, 300);
}

/** Retry-After (seconds or HTTP date) or retry-after-ms, in ms. */
function retryAfter(h: Headers | undefined): number | undefined {
  if (!h) return undefined;
  const ms = h.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = h.get('retry-after');
  if (!ra) return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Exponential backoff 0.5, 1, 2, 4, 8 s with up to 25 % jitter below. */
function backoffMs(attempt: number): number {
  return Math.min(500 * 2 ** (attempt - 1), 8000) * (1 - Math.random() * 0.25);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new EndpointFailure('cancelled', true));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new EndpointFailure('cancelled', true));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** API key from the environment: the named variable, else SPECVET_API_KEY, else OPENAI_API_KEY; null when none is set. */
export function apiKeyFromEnv(varName?: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (varName) {
    const v = env[varName];
    if (v === undefined || v === '') throw new SpecVetError('usage', `environment variable ${varName} (named by --api-key-env) is not set`);
    return v;
  }
  return env.SPECVET_API_KEY || env.OPENAI_API_KEY || null;
}
