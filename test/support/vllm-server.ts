// A vLLM-like OpenAI-compatible server for tests and benchmarks, on 127.0.0.1 only: /v1/models and
// /v1/chat/completions, streamed (SSE) and not, driven by a scripted policy (request → reply) with
// injectable faults. It records every request so tests can assert on exactly what the client sent.
//
//   const server = await startVllmServer({ policy: zoomThenAnswer({ windows: [[6500, 6600]], verdict: 'YES' }) });
//   ... run the client against server.url ...
//   server.requests[1].images[0].width; await server.close();
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pyJson } from '../../src/core/agent/parse';

export interface RecordedImage {
  messageIndex: number;
  partIndex: number;
  width: number;
  height: number;
  bytes: number;
}

export interface RecordedRequest {
  /** 0-based arrival order across the server's life. */
  seq: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (null for GET or unparsable bodies). */
  body: any;
  /** Raw body text, for asserting that no secret appears in it. */
  rawBody: string;
  /** PNG images found in the messages (header-decoded). */
  images: RecordedImage[];
  receivedAt: number;
}

export interface PolicyContext {
  /** Number of assistant messages already in the request (0 for the first turn). */
  turn: number;
  /** How many chat requests with this exact message count arrived before (retries of the same turn). */
  attempt: number;
  request: RecordedRequest;
}

export interface ScriptedReply {
  /** Assistant text (think, `<tool_call>` text, answer). */
  content?: string;
  /** Calls returned in the `tool_calls` field (arguments as raw text: may be deliberately bad JSON). */
  toolCalls?: Array<{ name: string; arguments: string; id?: string }>;
  finishReason?: string;
  /** Wait before sending headers. */
  delayMs?: number;
  /** Streaming: wait between chunks. */
  chunkDelayMs?: number;
  /** Streaming: characters per content chunk (default 12). */
  chunkChars?: number;
  /** Fault: reply with this HTTP status and an OpenAI-style error body. */
  status?: number;
  errorMessage?: string;
  /** Sent with `status` (seconds). */
  retryAfterSeconds?: number;
  /** Streaming: destroy the connection after this many content chunks. */
  cutAfterChunks?: number;
  /** Never reply; the connection stays open until the client gives up. */
  hang?: boolean;
  /** Close the connection without a reply, as a server does with a kept-alive connection it has just timed out. */
  dropConnection?: boolean;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export type Policy = (ctx: PolicyContext) => ScriptedReply | Promise<ScriptedReply>;

export interface VllmServerOptions {
  policy?: Policy;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401 as vLLM's --api-key does. */
  apiKey?: string;
  /** Served model name (default spec-o3-7b); other names get 404 like vLLM. */
  modelName?: string;
  /** Added before every chat reply (simulated model latency). */
  latencyMs?: number;
  /** Keep full request records (default true; benchmarks switch it off to keep memory flat). */
  record?: boolean;
}

export interface VllmServer {
  url: string;
  /** Base URL for the client: `${url}/v1`. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Chat completion requests only. */
  chatRequests(): RecordedRequest[];
  setPolicy(p: Policy): void;
  setLatency(ms: number): void;
  /** Chat requests being answered right now (hanging ones included). */
  openConnections(): number;
  /** The most chat requests ever answered at the same time. */
  peakConnections(): number;
  close(): Promise<void>;
}

export async function startVllmServer(opts: VllmServerOptions = {}): Promise<VllmServer> {
  let policy: Policy = opts.policy ?? zoomThenAnswer({ windows: [[6500, 6600]], verdict: 'NO' });
  let latency = opts.latencyMs ?? 0;
  const record = opts.record ?? true;
  const model = opts.modelName ?? 'spec-o3-7b';
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  let seq = 0;
  let open = 0;
  let peak = 0;

  const server = http.createServer(async (req, res) => {
    const isChat = (req.url ?? '').startsWith('/v1/chat/');
    if (isChat) {
      peak = Math.max(peak, ++open);
      res.on('close', () => open--);
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: any = null;
    try {
      body = rawBody ? JSON.parse(rawBody) : null;
    } catch {
      body = null;
    }
    const rec: RecordedRequest = { seq: seq++, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, rawBody: record ? rawBody : '', images: record ? findImages(body) : [], receivedAt: Date.now() };
    if (record) requests.push(rec);

    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return sendJson(res, 401, { error: { message: 'Unauthorized', type: 'invalid_api_key', code: 401 } });
    }
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'vllm', max_model_len: 32768 }] });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'NotFoundError', code: 404 } });
    if (!body || !Array.isArray(body.messages)) return sendJson(res, 400, { error: { message: 'body must be JSON with messages', type: 'BadRequestError', code: 400 } });
    if (body.model !== model) return sendJson(res, 404, { error: { message: `The model \`${body.model}\` does not exist.`, type: 'NotFoundError', code: 404 } });

    const turn = body.messages.filter((m: any) => m?.role === 'assistant').length;
    // Retries are counted only when recording (tests); a benchmark server skips re-serialising the last message.
    let attempt = 0;
    if (record) {
      const key = `${body.messages.length}:${JSON.stringify(body.messages[body.messages.length - 1]).length}`;
      attempt = attempts.get(key) ?? 0;
      attempts.set(key, attempt + 1);
    }
    let reply: ScriptedReply;
    try {
      reply = await policy({ turn, attempt, request: rec });
    } catch (err) {
      return sendJson(res, 500, { error: { message: `policy failed: ${String(err)}`, type: 'InternalServerError', code: 500 } });
    }
    if (reply.hang) return; // the client's timeout or abort ends it
    if (reply.dropConnection) return void req.socket.destroy();
    const wait = latency + (reply.delayMs ?? 0);
    if (wait > 0) await sleep(wait);
    if (res.destroyed) return;
    if (reply.status && reply.status >= 400) {
      const headers: Record<string, string> = {};
      if (reply.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.retryAfterSeconds);
      return sendJson(res, reply.status, { error: { message: reply.errorMessage ?? `injected HTTP ${reply.status}`, type: 'InjectedError', code: reply.status } }, headers);
    }
    const id = `chatcmpl-${rec.seq}`;
    const created = Math.floor(Date.now() / 1000);
    const content = reply.content ?? '';
    const toolCalls = (reply.toolCalls ?? []).map((t, i) => ({ id: t.id ?? `chatcmpl-tool-${rec.seq}-${i}`, type: 'function', function: { name: t.name, arguments: t.arguments } }));
    const finish = reply.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
    const usage = reply.usage ?? { prompt_tokens: 100 + 10 * body.messages.length, completion_tokens: Math.ceil(content.length / 4) + 1 };
    const usageObj = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };

    if (!body.stream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) }, finish_reason: finish, logprobs: null }],
        usage: usageObj,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`);
    send({ role: 'assistant', content: '' });
    const step = reply.chunkChars ?? 12;
    let n = 0;
    for (let i = 0; i < content.length; i += step) {
      if (reply.cutAfterChunks !== undefined && n >= reply.cutAfterChunks) return cut(res);
      send({ content: content.slice(i, i + step) });
      n++;
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (res.destroyed) return;
    }
    if (reply.cutAfterChunks !== undefined && n >= reply.cutAfterChunks) return cut(res);
    toolCalls.forEach((t, index) => {
      send({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.function.name, arguments: '' } }] });
      const a = t.function.arguments;
      for (let i = 0; i < a.length; i += step) send({ tool_calls: [{ index, function: { arguments: a.slice(i, i + step) } }] });
    });
    send({}, finish);
    if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageObj })}\n\n`);
    res.write('data: [DONE]\n\n');
    res.end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // vLLM's server (uvicorn) closes a kept-alive connection after 5 s idle; Node's fetch reuses one for
  // at most 4 s, so the two never race (at 1 s, a request reusing a connection ~2 s idle was reset).
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path.startsWith('/v1/chat/completions')),
    setPolicy(p) {
      policy = p;
    },
    setLatency(ms) {
      latency = ms;
    },
    openConnections: () => open,
    peakConnections: () => peak,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, obj: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const data = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

/** Drops the connection mid-stream, after what was written has reached the client. */
async function cut(res: http.ServerResponse): Promise<void> {
  await sleep(30);
  res.socket?.destroy();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Width and height of every PNG data URL in the messages, read from the IHDR chunk. */
export function findImages(body: any): RecordedImage[] {
  const out: RecordedImage[] = [];
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  messages.forEach((m, messageIndex) => {
    if (!Array.isArray(m?.content)) return;
    m.content.forEach((p: any, partIndex: number) => {
      const url: unknown = p?.image_url?.url;
      if (p?.type !== 'image_url' || typeof url !== 'string') return;
      const comma = url.indexOf(',');
      const buf = Buffer.from(url.slice(comma + 1), 'base64');
      const isPng = buf.length >= 24 && buf.readUInt32BE(0) === 0x89504e47 && buf.toString('ascii', 12, 16) === 'IHDR';
      out.push({ messageIndex, partIndex, width: isPng ? buf.readUInt32BE(16) : 0, height: isPng ? buf.readUInt32BE(20) : 0, bytes: buf.length });
    });
  });
  return out;
}

// ---- Reply builders: what a Spec-o3 model writes --------------------------------------------------

export function thinkText(text: string): string {
  return `<think>\n${text}\n</think>\n`;
}

export function toolCallText(range: unknown, label?: string): string {
  const args = label === undefined ? { wavelength_range: range } : { label, wavelength_range: range };
  return `<tool_call>\n${pyJson({ name: 'spectral_visualization_tool', arguments: args })}\n</tool_call>`;
}

export function answerText(verdict: 'YES' | 'NO'): string {
  return `<answer>\nBased on the features examined, the answer is \\boxed{${verdict}}.\n</answer>`;
}

export interface ZoomThenAnswerOptions {
  /** Windows to request in turn (any JSON value: out-of-range and reversed ones included). */
  windows: unknown[];
  verdict: 'YES' | 'NO';
  /** 'text' (default): `<tool_call>` in content, as vLLM without a tool parser; 'tool_calls': the parsed field. */
  callsAs?: 'text' | 'tool_calls';
}

/** A well-behaved model: one think + zoom per window, then think + answer. Decides by the turn number in the request. */
export function zoomThenAnswer(o: ZoomThenAnswerOptions): Policy {
  return ({ turn }) => {
    if (turn < o.windows.length) {
      const range = o.windows[turn];
      const label = `feature ${turn + 1}`;
      const think = thinkText(`Turn ${turn + 1}: I should look more closely at ${JSON.stringify(range)} to check the diagnostic features.`);
      if (o.callsAs === 'tool_calls') return { content: think, toolCalls: [{ name: 'spectral_visualization_tool', arguments: JSON.stringify({ label, wavelength_range: range }) }] };
      return { content: think + toolCallText(range, label) };
    }
    return { content: thinkText('I have examined the key regions; the indicators are consistent.') + answerText(o.verdict) };
  };
}

/** The first `times` requests get `fault`; then `then` answers. */
export function faultFirst(times: number, fault: ScriptedReply, then: Policy): Policy {
  let n = 0;
  return (ctx) => (n++ < times ? fault : then(ctx));
}
