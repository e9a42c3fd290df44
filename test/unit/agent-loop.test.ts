// The agent loop against the vLLM-like server with the real openai client, on a real LAMOST fixture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runAgent, startAgentRun, type AgentEvent, type AgentInput } from '../../src/core/agent/loop';
import type { EndpointSettings } from '../../src/core/agent/endpoint';
import { loadGuide } from '../../src/core/guides/guide';
import { openSpectrumFile } from '../../src/core/spectrum/open';
import type { Spectrum } from '../../src/core/spectrum/model';
import { validateTrace, type ContentPart, type Trace } from '../../src/core/trace/schema';
import { fixture } from '../support/paths';
import { answerText, faultFirst, startVllmServer, thinkText, toolCallText, zoomThenAnswer, type VllmServer } from '../support/vllm-server';

const FILE = fixture('spec-55862-B6212_sp06-025.fits');
let spectrum: Spectrum;
let server: VllmServer;
const guide = loadGuide('m-giant');

before(async () => {
  spectrum = openSpectrumFile(FILE).get(0);
  server = await startVllmServer();
});
after(() => server.close());

function input(over: Partial<Omit<AgentInput, 'endpoint'>> & { endpoint?: Partial<EndpointSettings> | 'scripted' } = {}): AgentInput {
  const ep = over.endpoint === 'scripted' ? 'scripted' : { baseUrl: server.baseUrl, model: 'spec-o3-7b', retries: 2, ...(over.endpoint ?? {}) };
  return { spectrum, source: { file: FILE, sha256: 'f'.repeat(64) }, guide, ...over, endpoint: ep };
}

/** Requests the server received during `fn`. */
async function capture<T>(fn: () => Promise<T>) {
  const from = server.requests.length;
  const result = await fn();
  return { result, requests: server.requests.slice(from).filter((r) => r.path.startsWith('/v1/chat')) };
}

function parts(content: unknown): ContentPart[] {
  assert.ok(Array.isArray(content), 'content is a list of parts');
  return content as ContentPart[];
}

test('hermes, streamed: two zooms then YES; requests and trace have the training shape', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[7000, 7700], [6100, 6700]], verdict: 'YES' }));
  const events: AgentEvent[] = [];
  const { result: trace, requests } = await capture(() => runAgent(input({ onEvent: (e) => events.push(e) })));

  assert.equal(trace.status, 'answered');
  assert.deepEqual([trace.answer.verdict, trace.answer.formatOk], ['YES', true]);
  assert.equal(trace.turns, 3);
  assert.deepEqual(validateTrace(trace), []);
  assert.equal(requests.length, 3);

  // First request: system prompt, overview image then the task text; tools with tool_choice none; streamed.
  const first = requests[0].body;
  assert.equal(first.stream, true);
  assert.equal(first.tool_choice, 'none');
  assert.equal(first.tools[0].function.name, 'spectral_visualization_tool');
  assert.deepEqual(first.messages.map((m: { role: string }) => m.role), ['system', 'user']);
  assert.equal(first.messages[0].content, 'You are a helpful assistant.');
  const p0 = parts(first.messages[1].content);
  assert.deepEqual(p0.map((p) => p.type), ['image_url', 'text']);
  assert.ok((p0[1] as { text: string }).text.startsWith('\nAnalyze the provided spectrum to determine if it is a **M Giant Star**.'));
  const overview = requests[0].images[0];
  assert.ok(overview.width > 700 && overview.width < 900 && overview.height > 400 && overview.height < 560, `overview about 800×480, got ${overview.width}×${overview.height}`);

  // Second request: the model's turn as written, then the tool response as a user turn.
  const second = requests[1].body.messages;
  assert.deepEqual(second.map((m: { role: string }) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.match(second[2].content, /<tool_call>\n\{"name": ?"spectral_visualization_tool"/);
  const resp = parts(second[3].content);
  assert.deepEqual(resp.map((p) => p.type), ['text', 'image_url', 'text']);
  assert.equal((resp[0] as { text: string }).text, '<tool_response>\n');
  assert.equal((resp[2] as { text: string }).text, 'Generated spectral visualization focused on wavelength range (7000, 7700) Å for feature 1.\n</tool_response>');
  const zoomImage = requests[1].images.find((i) => i.messageIndex === 3)!;
  assert.ok(zoomImage.width > 500 && zoomImage.height > 300);

  // Steps: think, tool_call, tool_result ×2, then think, answer; images point at the messages.
  assert.deepEqual(trace.steps.map((s) => s.kind), ['think', 'tool_call', 'tool_result', 'think', 'tool_call', 'tool_result', 'think', 'answer']);
  const tr = trace.steps[2];
  assert.deepEqual(tr.image?.window, [7000, 7700]);
  assert.equal(tr.image?.message, 3);
  assert.equal(tr.image?.part, 1);
  assert.deepEqual(trace.messages.slice(0, 4), second, 'trace messages are exactly what was sent');
  // Images are spliced into the body as bytes by the client's fetch, and the body is ASCII (the
  // guide's "Å" as \u00c5): what arrives parses to exactly the conversation.
  assert.deepEqual(requests[2].body.messages, trace.messages.slice(0, 6));
  assert.equal(requests[2].images.length, 3);
  assert.doesNotMatch(requests[2].rawBody, /specvet-image-/);
  assert.match(requests[2].rawBody, /^[\x20-\x7e]*$/);
  assert.match(JSON.stringify(requests[2].body), /Å/);
  assert.equal(trace.endpoint.protocol, 'hermes');
  assert.ok(trace.usage && trace.usage.totalTokens > 0);

  // Events in order, think text streamed in pieces.
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'run_started');
  assert.equal(types[types.length - 1], 'finished');
  assert.ok(types.filter((t) => t === 'think_delta').length > 3);
  const tool = events.find((e) => e.type === 'tool_result');
  assert.ok(tool && tool.type === 'tool_result' && tool.image && tool.image.png.length > 1000);
});

test('hermes with a server that parses tool_calls: the call is put back as <tool_call> text', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[6500, 6600]], verdict: 'NO', callsAs: 'tool_calls' }));
  const { result: trace, requests } = await capture(() => runAgent(input()));
  assert.equal(trace.answer.verdict, 'NO');
  const assistant = requests[1].body.messages[2];
  assert.equal(assistant.tool_calls, undefined);
  assert.match(assistant.content, /<\/think>\n<tool_call>\n\{"name": "spectral_visualization_tool", "arguments": \{"label": "feature 1", "wavelength_range": \[6500, 6600\]\}\}\n<\/tool_call>$/);
});

test('native protocol: tool_choice auto, a tool message, then the image in a user message; not streamed', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[6500, 6600]], verdict: 'YES', callsAs: 'tool_calls' }));
  const { result: trace, requests } = await capture(() => runAgent(input({ endpoint: { protocol: 'native', stream: false } })));
  assert.equal(trace.status, 'answered');
  assert.equal(requests[0].body.tool_choice, 'auto');
  assert.equal(requests[0].body.stream, false);
  const msgs = requests[1].body.messages;
  assert.deepEqual(msgs.map((m: { role: string }) => m.role), ['system', 'user', 'assistant', 'tool', 'user']);
  assert.equal(msgs[2].tool_calls[0].id, msgs[3].tool_call_id);
  assert.match(msgs[3].content, /^Generated spectral visualization focused on wavelength range \(6500, 6600\) Å/);
  assert.equal(parts(msgs[4].content)[0].type, 'image_url');
  assert.equal(trace.steps.find((s) => s.kind === 'tool_result')?.image?.message, 4);
});

test('native protocol with a server that leaves <tool_call> in the text: the call is still run and sent back as tool_calls', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [[4700, 5050]], verdict: 'NO' }));
  const { result: trace, requests } = await capture(() => runAgent(input({ endpoint: { protocol: 'native' } })));
  assert.equal(trace.status, 'answered');
  const msgs = requests[1].body.messages;
  assert.equal(msgs[2].tool_calls[0].function.name, 'spectral_visualization_tool');
  assert.equal(msgs[3].role, 'tool');
  assert.equal(msgs[3].tool_call_id, msgs[2].tool_calls[0].id);
});

test('bad calls are answered with text and the model carries on: out of range, reversed, bad JSON, unknown tool', async () => {
  server.setPolicy(({ turn }) => {
    const think = thinkText(`turn ${turn + 1}`);
    switch (turn) {
      case 0:
        return { content: think + '<tool_call>\n{"name": "spectral_visualization_tool", "arguments": {"wavelength_range": [12000.0, 13000]}}\n</tool_call>' };
      case 1:
        return { content: think + toolCallText([6600, 6500]) };
      case 2:
        return { content: think, toolCalls: [{ name: 'spectral_visualization_tool', arguments: '{"wavelength_range": [65' }] };
      case 3:
        return { content: think + '<tool_call>\n{"name": "flux_calculator", "arguments": {}}\n</tool_call>' };
      default:
        return { content: think + answerText('NO') };
    }
  });
  const { result: trace, requests } = await capture(() => runAgent(input()));
  assert.equal(trace.status, 'answered');
  assert.equal(trace.turns, 5);
  const results = trace.steps.filter((s) => s.kind === 'tool_result');
  assert.deepEqual(results.map((s) => s.ok), [false, false, false, false]);
  assert.match(results[0].text!, /^Error: The specified wavelength range \[12000\.0, 13000\] is invalid or outside the available data range \[\d+\.\d, \d+\.\d\]\.$/);
  assert.match(results[1].text!, /^Error: The specified wavelength range \[6600, 6500\]/);
  assert.match(results[2].text!, /not valid JSON/);
  assert.match(results[3].text!, /unknown tool 'flux_calculator'/);
  // A rejected call gets a text-only tool response.
  const resp = requests[1].body.messages[3];
  assert.equal(resp.role, 'user');
  assert.match(parts(resp.content)[0].type === 'text' ? (parts(resp.content)[0] as { text: string }).text : '', /^<tool_response>\nError: .*\n<\/tool_response>$/s);
  assert.equal(requests[1].images.length, 1, 'only the overview image');
});

test('the turn limit ends the trajectory with status max_turns', async () => {
  server.setPolicy(({ turn }) => ({ content: thinkText('more') + toolCallText([6000 + turn * 10, 6100 + turn * 10]) }));
  const { result: trace, requests } = await capture(() => runAgent(input({ endpoint: { maxTurns: 3 } })));
  assert.equal(trace.status, 'max_turns');
  assert.equal(trace.turns, 3);
  assert.equal(requests.length, 3);
  assert.equal(trace.answer.verdict, null);
});

test('an empty reply is an error; a reply with neither call nor answer is no_answer', async () => {
  server.setPolicy(() => ({ content: '' }));
  const empty = await runAgent(input());
  assert.equal(empty.status, 'error');
  assert.match(empty.error!, /empty reply/);
  server.setPolicy(() => ({ content: thinkText('The spectrum is hard to read.') }));
  const none = await runAgent(input());
  assert.equal(none.status, 'no_answer');
  assert.equal(none.answer.verdict, null);
  server.setPolicy(() => ({ content: '<think>\nThe TiO band at 7054 Å looks', finishReason: 'length' }));
  const cut = await runAgent(input({ endpoint: { maxTokens: 16 } }));
  assert.equal(cut.status, 'no_answer');
  assert.match(cut.error!, /max-tokens limit/);
  server.setPolicy(() => ({ content: thinkText('Clear TiO bands.') + 'So the answer is YES.' }));
  const fallback = await runAgent(input());
  assert.deepEqual([fallback.status, fallback.answer.verdict, fallback.answer.formatOk], ['answered', 'YES', false]);
});

test('HTTP 500 is retried; the run still answers and the retries are announced', async () => {
  server.setPolicy(faultFirst(2, { status: 500 }, zoomThenAnswer({ windows: [], verdict: 'YES' })));
  const events: AgentEvent[] = [];
  const { result: trace, requests } = await capture(() => runAgent(input({ onEvent: (e) => events.push(e) })));
  assert.equal(trace.status, 'answered');
  assert.equal(requests.length, 3);
  const retries = events.filter((e) => e.type === 'retry');
  assert.equal(retries.length, 2);
  assert.match(retries[0].type === 'retry' ? retries[0].reason : '', /HTTP 500/);
});

test('a connection closed before any reply is sent again at once, without using up the retries', async () => {
  server.setPolicy(faultFirst(1, { dropConnection: true }, zoomThenAnswer({ windows: [], verdict: 'YES' })));
  const events: AgentEvent[] = [];
  const { result: trace, requests } = await capture(() => runAgent(input({ endpoint: { retries: 0 }, onEvent: (e) => events.push(e) })));
  assert.equal(trace.status, 'answered', trace.error);
  assert.equal(requests.length, 2);
  const retries = events.filter((e) => e.type === 'retry');
  assert.equal(retries.length, 1);
  assert.ok(retries[0].type === 'retry' && retries[0].waitMs === 0, 'no wait');
  assert.match(retries[0].type === 'retry' ? retries[0].reason : '', /closed the connection before replying \(fetch failed: other side closed\); sending again/);

  // A server that closes every connection: a few resends, then the retry policy, then a clear error.
  server.setPolicy(() => ({ dropConnection: true }));
  const { result: failed, requests: sent } = await capture(() => runAgent(input({ endpoint: { retries: 1, maxRetryWaitMs: 50 } })));
  assert.equal(failed.status, 'error');
  assert.equal(sent.length, 5, '3 resends, then 1 retry');
  assert.match(failed.error!, /the endpoint closed the connection before replying \(fetch failed: other side closed\) after 5 attempts/);
});

test('429 with Retry-After: the client waits at least that long before the next attempt', async () => {
  server.setPolicy(faultFirst(1, { status: 429, retryAfterSeconds: 1 }, zoomThenAnswer({ windows: [], verdict: 'NO' })));
  const { result: trace, requests } = await capture(() => runAgent(input()));
  assert.equal(trace.status, 'answered');
  assert.equal(requests.length, 2);
  assert.ok(requests[1].receivedAt - requests[0].receivedAt >= 1000, `waited ${requests[1].receivedAt - requests[0].receivedAt} ms`);
});

test('a Retry-After longer than the accepted wait ends the run at once with a clear error', async () => {
  server.setPolicy(() => ({ status: 503, retryAfterSeconds: 3600 }));
  const t0 = Date.now();
  const trace = await runAgent(input({ endpoint: { maxRetryWaitMs: 5000 } }));
  assert.equal(trace.status, 'error');
  assert.match(trace.error!, /HTTP 503.*retry after 3600 s, beyond the 5 s limit/);
  assert.ok(Date.now() - t0 < 4000);
});

test('a stream cut mid-way is retried from the start of the turn; with no retries left it is an error', async () => {
  const answer = zoomThenAnswer({ windows: [], verdict: 'YES' });
  server.setPolicy(faultFirst(1, { content: thinkText('a long thought that will be cut off somewhere in the middle'), cutAfterChunks: 2 }, answer));
  const events: AgentEvent[] = [];
  const trace = await runAgent(input({ onEvent: (e) => events.push(e) }));
  assert.equal(trace.status, 'answered');
  const retry = events.find((e) => e.type === 'retry');
  assert.ok(retry && retry.type === 'retry' && retry.discardPartial, 'the partial text is marked for discarding');

  server.setPolicy(() => ({ content: thinkText('cut every time, cut every time'), cutAfterChunks: 1 }));
  const failed = await runAgent(input({ endpoint: { retries: 1 } }));
  assert.equal(failed.status, 'error');
  assert.match(failed.error!, /after 2 attempts/);
});

test('a server that never answers: the request timeout ends it; cancelling ends it at once', async () => {
  server.setPolicy(() => ({ hang: true }));
  const timedOut = await runAgent(input({ endpoint: { timeoutMs: 300, retries: 0 } }));
  assert.equal(timedOut.status, 'error');
  assert.match(timedOut.error!, /no complete reply within/);

  const run = startAgentRun(input({ endpoint: { timeoutMs: 60_000 } }));
  setTimeout(() => run.cancel(), 100);
  const t0 = Date.now();
  const cancelled = await run.done;
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(Date.now() - t0 < 5000);
});

test('a wrong API key is a clear error, and no key ever reaches the trace', async () => {
  const secret = 'sk-test-9f8e7d6c5b4a';
  const guarded = await startVllmServer({ apiKey: secret, policy: zoomThenAnswer({ windows: [[6500, 6600]], verdict: 'YES' }) });
  try {
    const bad = await runAgent(input({ endpoint: { baseUrl: guarded.baseUrl, apiKey: 'sk-wrong' } }));
    assert.equal(bad.status, 'error');
    assert.match(bad.error!, /rejected the API key \(HTTP 401/);
    const good = await runAgent(input({ endpoint: { baseUrl: guarded.baseUrl, apiKey: secret, headers: { 'X-Team-Token': 'tok-abc123' } } }));
    assert.equal(good.status, 'answered');
    const text = JSON.stringify(good);
    assert.ok(!text.includes(secret) && !text.includes('tok-abc123'), 'no secret in the trace');
    assert.deepEqual(good.endpoint.headerNames, ['X-Team-Token']);
    assert.ok(guarded.requests.every((r) => !r.rawBody.includes(secret)), 'the key travels only in the Authorization header');
  } finally {
    await guarded.close();
  }
});

test('a forced zoom is inserted as a user turn before the next request and recorded with its image', async () => {
  server.setPolicy(({ turn }) => (turn === 0 ? { content: thinkText('look at Hα') + toolCallText([6500, 6600], 'H-alpha'), delayMs: 150 } : { content: thinkText('done') + answerText('NO') }));
  // Forced while the model's first turn is under way (the overview is drawn on a worker, so a fixed delay could land before it).
  const run = startAgentRun(
    input({
      onEvent: (e) => {
        if (e.type === 'request_started' && e.turn === 1) setTimeout(() => run.forceZoom([7000, 7700], 'TiO 7054'), 30);
      },
    }),
  );
  const from = server.requests.length;
  const trace = await run.done;
  const reqs = server.requests.slice(from);
  assert.equal(trace.status, 'answered');
  const msgs = reqs[1].body.messages;
  assert.deepEqual(msgs.map((m: { role: string }) => m.role), ['system', 'user', 'assistant', 'user', 'user']);
  assert.match((parts(msgs[4].content)[2] as { text: string }).text, /\(7000, 7700\) Å for TiO 7054\.\n<\/tool_response>$/);
  const forced = trace.steps.find((s) => s.kind === 'forced_zoom')!;
  assert.deepEqual([forced.ok, forced.image?.window, forced.image?.message], [true, [7000, 7700], 4]);
  assert.deepEqual(validateTrace(trace), []);
});

test('a run resumes from a trace: prior messages are kept and the model continues after a forced zoom', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [], verdict: 'NO' }));
  const first = await runAgent(input());
  server.setPolicy(() => ({ content: thinkText('The extra window changes my mind.') + answerText('YES') }));
  const { result: resumed, requests } = await capture(() => runAgent(input({ resumeFrom: first, forcedZooms: [{ range: [4700, 5050] }] })));
  assert.equal(resumed.id, first.id);
  assert.equal(resumed.turns, 2);
  assert.equal(resumed.answer.verdict, 'YES');
  assert.deepEqual(requests[0].body.messages.slice(0, 3), first.messages);
  assert.deepEqual(resumed.steps.map((s) => s.kind), ['think', 'answer', 'forced_zoom', 'think', 'answer']);
  // Resuming with nothing new leaves a finished trace as it was, without a request.
  const { result: same, requests: none } = await capture(() => runAgent(input({ resumeFrom: resumed })));
  assert.equal(none.length, 0);
  assert.equal(same.answer.verdict, 'YES');
});

test('an image URL that JSON must escape is sent inline and arrives as it was', async () => {
  server.setPolicy(zoomThenAnswer({ windows: [], verdict: 'NO' }));
  const first = await runAgent(input());
  const odd = structuredClone(first);
  const user = odd.messages[1] as { content: ContentPart[] };
  const part = user.content.find((p) => p.type === 'image_url') as { image_url: { url: string } };
  part.image_url.url += '"\\\u2028é';
  server.setPolicy(() => ({ content: thinkText('Again.') + answerText('NO') }));
  const { requests } = await capture(() => runAgent(input({ resumeFrom: odd, forcedZooms: [{ range: [6500, 6600] }] })));
  assert.equal(requests.length, 1);
  assert.equal(requests[0].body.messages[1].content.find((p: ContentPart) => p.type === 'image_url').image_url.url, part.image_url.url);
  assert.match(requests[0].rawBody, /^[\x20-\x7e]*$/);
});

test('the scripted inspector opens the guide windows, records a complete trace and gives no verdict', async () => {
  const { result: trace, requests } = await capture(() => runAgent(input({ endpoint: 'scripted' })));
  assert.equal(requests.length, 0);
  assert.equal(trace.status, 'scripted');
  assert.equal(trace.answer.verdict, null);
  assert.equal(trace.turns, guide.windows.length);
  const results = trace.steps.filter((s) => s.kind === 'tool_result');
  assert.deepEqual(results.map((s) => s.image?.window), guide.windows.map((w) => w.range));
  assert.ok(results.every((s) => s.ok));
  assert.deepEqual(validateTrace(trace), []);
  assert.equal(trace.endpoint.protocol, 'scripted');
  assert.match(trace.messages[2].content as string, /^<tool_call>\n/);
  const t: Trace = trace;
  assert.ok(t.messages.length === 2 + 2 * guide.windows.length);
});
