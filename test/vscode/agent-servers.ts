// vLLM-like servers for the agent's extension-host tests, started on the node:test side (127.0.0.1)
// and handed to the extension host through extensionEnvironment: one server per behaviour, so the
// suite picks a behaviour by pointing specvet.endpoint.url at it.
import { answerText, startVllmServer, thinkText, toolCallText, zoomThenAnswer, type VllmServer } from '../support/vllm-server';

export const AGENT_TEST_KEY = 'sk-specvet-right-key-7f3a';
export const XSS_PAYLOAD = 'Look: <img src=x onerror="alert(1)"> and <script>alert(2)</script> <iframe src="javascript:alert(3)"></iframe> [click](javascript:alert(4))';

export interface AgentTestServers {
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startAgentTestServers(): Promise<AgentTestServers> {
  const servers: VllmServer[] = [];
  const start = async (...args: Parameters<typeof startVllmServer>) => {
    const s = await startVllmServer(...args);
    servers.push(s);
    return s;
  };
  // A well-behaved model, streamed in small chunks so think text visibly arrives in pieces.
  const good = await start({
    policy: (ctx) => ({ ...zoomThenAnswer({ windows: [[6500, 6600], [5100, 5250]], verdict: 'YES' })(ctx), chunkChars: 6, chunkDelayMs: 3 }),
  });
  // A slow model: each turn streams for about 3 s (time to stop it or to force a zoom mid-run).
  const slow = await start({
    policy: ({ turn }) => {
      const text = turn < 2
        ? thinkText(`Turn ${turn + 1}: examining the spectrum slowly and carefully, one feature at a time, before deciding where to zoom next.`) + toolCallText(turn === 0 ? [6500, 6600] : [4800, 4920], `window ${turn + 1}`)
        : thinkText('Enough seen.') + answerText('NO');
      return { content: text, chunkChars: 4, chunkDelayMs: 40 };
    },
  });
  // Requires an API key, as vLLM --api-key does (401 otherwise).
  const keyed = await start({ apiKey: AGENT_TEST_KEY, policy: zoomThenAnswer({ windows: [[6500, 6600]], verdict: 'NO' }) });
  // A model whose text carries an XSS payload.
  const xss = await start({
    policy: ({ turn }) => ({ content: turn === 0 ? thinkText(XSS_PAYLOAD) + toolCallText([6500, 6600]) : thinkText(`Again ${XSS_PAYLOAD}`) + answerText('NO') }),
  });
  // A port that was open a moment ago and is closed now: "endpoint down".
  const dead = await startVllmServer();
  const deadUrl = dead.baseUrl;
  await dead.close();
  return {
    env: {
      SPECVET_TEST_VLLM_GOOD: good.baseUrl,
      SPECVET_TEST_VLLM_SLOW: slow.baseUrl,
      SPECVET_TEST_VLLM_KEYED: keyed.baseUrl,
      SPECVET_TEST_VLLM_XSS: xss.baseUrl,
      SPECVET_TEST_VLLM_DEAD: deadUrl,
      SPECVET_TEST_VLLM_KEY: AGENT_TEST_KEY,
    },
    async close() {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
