// The agent trace panel in headless Chromium: the built FITS webview with its trace view, fed with
// the events of REAL agent runs (the core loop on a real fixture against the vLLM-like server on
// 127.0.0.1), converted exactly as the extension host converts them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { startAgentRun, type AgentEvent, type AgentInput } from '../../src/core/agent/loop';
import { loadGuide } from '../../src/core/guides/guide';
import { readSpectrumFile } from '../../src/core/spectrum/open';
import type { Spectrum } from '../../src/core/spectrum/model';
import type { Trace } from '../../src/core/trace/schema';
import { agentEventToView, traceToViewEvents, trajectoryInfo } from '../../src/extension/agent/traceEvents';
import type { TracePanelReport, TraceViewEvent, TrajectoryReport } from '../../src/shared/protocol';
import { answerText, startVllmServer, thinkText, toolCallText, type Policy, type VllmServer } from '../support/vllm-server';
import { fixture } from '../support/paths';
import { Viewer } from './harness';

declare const document: any;
declare const window: any;

const LAMOST = 'spec-55862-B6212_sp06-025.fits';

let server: VllmServer;
let spectrum: Spectrum;
before(async () => {
  server = await startVllmServer();
  spectrum = readSpectrumFile(fs.readFileSync(fixture(LAMOST)), LAMOST).get(0);
});
after(async () => {
  await server.close();
});

/** Run the real loop against the test server, streaming every event into the page as the host would. */
async function runInto(v: Viewer, policy: Policy, extra: Partial<AgentInput> = {}, title = 'carbon #1'): Promise<Trace> {
  server.setPolicy(policy);
  const guide = loadGuide('carbon');
  // Events queue behind the trajectory header, as the host posts them.
  let headerSent: () => void = () => undefined;
  let chain: Promise<void> = new Promise<void>((r) => { headerSent = r; });
  let id = '';
  const send = (events: TraceViewEvent[]) => {
    chain = chain.then(() => v.send({ type: 'agent.events', trajectoryId: id, events, postedAt: Date.now() }));
  };
  const run = startAgentRun({
    spectrum,
    source: { file: fixture(LAMOST), sha256: 'test' },
    guide,
    endpoint: { baseUrl: server.baseUrl, model: 'spec-o3-7b', retries: 0, timeoutMs: 10_000 },
    onEvent: (e: AgentEvent) => {
      const ve = agentEventToView(e);
      if (ve) send([ve]);
    },
    ...extra,
  });
  id = run.id;
  const info = trajectoryInfo(
    {
      id,
      createdAt: new Date().toISOString(),
      source: { file: LAMOST, sha256: 'test', index: 0, spectrumId: spectrum.meta.id, survey: 'LAMOST', format: spectrum.meta.format, redshift: spectrum.meta.redshift, restFrame: spectrum.meta.redshift !== null },
      guide: { id: guide.id, version: guide.version, sha256: guide.sha256, text: guide.text, source: guide.source },
      endpoint: { baseUrl: server.baseUrl, model: 'spec-o3-7b', protocol: 'hermes', stream: true, temperature: null, topP: null, maxTokens: null, maxTurns: 8, headerNames: [] },
    },
    { title, origin: 'live' },
  );
  await v.send({ type: 'agent.trajectory', info, events: [], select: true });
  headerSent();
  const trace = await run.done;
  await chain;
  // Every run here is scripted to answer: say why one did not, rather than fail later on a missing item.
  assert.equal(trace.status, 'answered', `the run ended ${trace.status}: ${trace.error ?? ''}; steps: ${JSON.stringify(trace.steps.map((st) => [st.kind, st.turn, st.text?.slice(0, 200)]))}`);
  return trace;
}

function panelReports(v: Viewer): TracePanelReport[] {
  return v.fromWebview.filter((m) => m.type === 'agent.report').map((m) => (m as { report: TracePanelReport }).report);
}

async function waitForTrajectory(v: Viewer, pred: (t: TrajectoryReport) => boolean, what: string, timeoutMs = 15_000): Promise<TrajectoryReport> {
  const start = Date.now();
  for (;;) {
    const r = panelReports(v).at(-1);
    const hit = r?.trajectories.find(pred);
    if (hit) return hit;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; last panel report: ${JSON.stringify(r)}; console: ${v.consoleErrors.join(' | ')}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function openViewer(theme: 'dark' | 'light' = 'dark'): Promise<Viewer> {
  const v = await Viewer.open({ theme, viewport: { width: 1500, height: 900 } });
  await v.load(LAMOST);
  await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
  return v;
}

function assertClean(v: Viewer): void {
  assert.deepEqual(v.cspViolations, [], 'no content-security-policy violations');
  assert.deepEqual(v.consoleErrors, [], 'no errors in the webview console');
  assert.ok(!v.fromWebview.some((m) => m.type === 'webviewError'), 'no webviewError messages');
}

const twoZooms: Policy = ({ turn }) => {
  if (turn === 0) return { content: thinkText('The overview shows a red continuum. **Check Hα** first.') + toolCallText([6500, 6600], 'Hα region'), chunkChars: 8, chunkDelayMs: 2 };
  if (turn === 1) return { content: thinkText('No emission at Hα. Now the C₂ Swan band head near 5165 Å.') + toolCallText([5100, 5250], 'C2 Swan 5165'), chunkChars: 8, chunkDelayMs: 2 };
  return { content: thinkText('Strong *C₂* bands and no TiO: a carbon star.') + answerText('YES'), chunkChars: 8, chunkDelayMs: 2 };
};

describe('agent trace panel (headless Chromium)', () => {
  test('a real run streams in: think blocks, chips and the exact zoom PNGs in order, then a YES badge', async () => {
    const v = await openViewer();
    try {
      const seen: string[] = [];
      await v.page.exposeBinding('__traceSeen', (_s, text: string) => { seen.push(text); });
      // Record every state of the streaming block as the page mutates it.
      await v.page.evaluate(() => {
        new (window as any).MutationObserver(() => {
          const s = document.querySelector('.sv-streaming-text');
          if (s) (window as any).__traceSeen(s.textContent);
        }).observe(document.body, { childList: true, subtree: true, characterData: true });
      });
      const trace = await runInto(v, twoZooms);
      assert.equal(trace.status, 'answered');
      const t = await waitForTrajectory(v, (x) => !x.running, 'finished trajectory');
      assert.deepEqual(t.items, ['think', 'tool_call', 'image', 'think', 'tool_call', 'image', 'think', 'answer']);
      assert.equal(t.verdict, 'YES');
      assert.equal(t.formatOk, true);
      assert.equal(t.status, 'answered');
      assert.equal(t.turns, 3);
      assert.match(t.thinkTexts[0], /Check Hα first/);
      assert.match(t.thinkTexts[2], /a carbon star/);
      // The images shown are the ones the model received (same pixel sizes as the requests carried).
      const sent = server.chatRequests().at(-1)!.images.slice(1);
      assert.deepEqual(t.images.map((i) => [i.width, i.height, i.bytes]), sent.map((i) => [i.width, i.height, i.bytes]), 'same sizes and byte counts as the PNGs the server received');
      const natural = await v.page.$$eval('.sv-tool-image', (imgs: any[]) => imgs.map((i) => [i.naturalWidth, i.naturalHeight]));
      assert.deepEqual(natural, sent.map((i) => [i.width, i.height]), 'the browser decoded the PNG bytes');
      // Streaming: the text grew in order (each state a prefix of the next, within a turn) before the turn completed.
      const distinct = seen.filter((s, i) => s && s !== seen[i - 1]);
      assert.ok(distinct.length >= 3, `several streamed states seen: ${distinct.length}`);
      for (let i = 1; i < distinct.length; i++) {
        const a = distinct[i - 1].replace(/\s+/g, ' ').trim();
        const b = distinct[i].replace(/\s+/g, ' ').trim();
        if (b.length >= a.length) assert.ok(b.startsWith(a.slice(0, Math.max(0, a.length - 12))), `stream state ${i} continues the previous one:\n${a}\n${b}`);
      }
      assert.ok(distinct.some((s) => /Check Hα/.test(s)), 'streamed think text shown before the turn ended');
      // Badge, format flag, status, turns in the footer.
      const foot = await v.page.locator('.sv-trajectory:not([hidden]) .sv-trace-foot').innerText();
      assert.match(foot, /YES/);
      assert.match(foot, /format ✓/);
      assert.match(foot, /answered/i);
      assert.match(foot, /3 turns/);
      assertClean(v);
      await v.screenshot('webview-trace-dark.png');
    } finally {
      await v.close();
    }
  });

  test('clicking a tool-call chip zooms the main plot to that window (rest-frame window shown in the plot frame)', async () => {
    const v = await openViewer();
    try {
      await runInto(v, twoZooms);
      await waitForTrajectory(v, (x) => !x.running, 'finished trajectory');
      const z = spectrum.meta.redshift;
      const k = z !== null ? 1 + z : 1;
      const n = await v.mark();
      await v.page.locator('.sv-chip', { hasText: '5100–5250' }).click();
      const r = await v.waitForNextReport(n, (x) => !!x.xRange && Math.abs(x.xRange[0] - 5100 * k) < 1e-6 && Math.abs(x.xRange[1] - 5250 * k) < 1e-6, 10_000);
      assert.ok(r.drawnPoints > 10);
      assert.equal(await v.page.locator('.sv-chip.sv-active').count(), 1);
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('an XSS payload in model text is rendered inert: no element created, no dialog, the text visible', async () => {
    const v = await openViewer();
    const dialogs: string[] = [];
    v.page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    try {
      const payload = 'Look: <img src=x onerror="alert(1)"> and <script>alert(2)</script> and <iframe src="javascript:alert(3)"></iframe> [click](javascript:alert(4)) <b onmouseover=alert(5)>bold</b>';
      await runInto(v, ({ turn }) => (turn === 0 ? { content: thinkText(payload) + toolCallText([6500, 6600]) } : { content: thinkText(`Still ${payload}`) + answerText('NO') }));
      const t = await waitForTrajectory(v, (x) => !x.running, 'finished trajectory');
      assert.equal(t.verdict, 'NO');
      const counts = await v.page.evaluate(() => ({
        img: document.querySelectorAll('.sv-md img').length,
        script: document.querySelectorAll('.sv-trace script').length,
        iframe: document.querySelectorAll('.sv-trace iframe').length,
        b: document.querySelectorAll('.sv-md b').length,
        handlers: Array.from(document.querySelectorAll('.sv-trace *')).filter((e: any) => Array.from(e.attributes).some((a: any) => a.name.startsWith('on'))).length,
        jsLinks: Array.from(document.querySelectorAll('.sv-trace a')).filter((a: any) => /^javascript:/i.test(a.getAttribute('href') ?? '')).length,
      }));
      assert.deepEqual(counts, { img: 0, script: 0, iframe: 0, b: 0, handlers: 0, jsLinks: 0 });
      const text = await v.page.locator('.sv-trajectory:not([hidden]) .sv-think').first().innerText();
      assert.ok(text.includes('<img src=x onerror="alert(1)">'), `payload shown as text: ${text}`);
      assert.ok(text.includes('<script>alert(2)</script>'));
      await v.page.locator('.sv-md').first().hover();
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(dialogs, [], 'no dialog opened');
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('forced zoom is marked as such; rerun keeps the old trajectory beside the new one; tabs switch', async () => {
    const v = await openViewer();
    try {
      await runInto(v, twoZooms, {}, 'carbon #1');
      await runInto(v, twoZooms, { forcedZooms: [{ range: [6540, 6590], label: 'my check' }] }, 'carbon #2');
      const t2 = await waitForTrajectory(v, (x) => x.title === 'carbon #2' && !x.running, 'second trajectory');
      assert.equal(t2.items[0], 'forced_image', 'the forced zoom comes first, before the model turn');
      assert.ok(t2.images[0].forced);
      assert.deepEqual(t2.images[0].window, [6540, 6590]);
      const r = panelReports(v).at(-1)!;
      assert.equal(r.trajectories.length, 2, 'both trajectories kept');
      assert.equal(r.selected, t2.id);
      assert.match(await v.page.locator('.sv-trajectory:not([hidden]) .sv-forced').innerText(), /Forced zoom/);
      await v.page.locator('.sv-trace-tab', { hasText: 'carbon #1' }).click();
      const first = r.trajectories[0].id;
      for (let i = 0; i < 100 && panelReports(v).at(-1)!.selected !== first; i++) await new Promise((res) => setTimeout(res, 50));
      assert.equal(panelReports(v).at(-1)!.selected, first);
      assert.equal(await v.page.locator('.sv-trajectory:not([hidden]) .sv-forced').count(), 0);
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('panel buttons ask the host for actions; untrusted status disables them and says why; the plot view answers a selection request', async () => {
    const v = await openViewer();
    try {
      await runInto(v, twoZooms);
      const t = await waitForTrajectory(v, (x) => !x.running, 'finished trajectory');
      await v.page.locator('.sv-act-rerun').click();
      await v.page.locator('.sv-act-save').click();
      const actions = () => v.fromWebview.filter((m) => m.type === 'agent.action') as Array<{ action: string; trajectoryId: string | null }>;
      for (let i = 0; i < 50 && actions().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(actions().map((a) => [a.action, a.trajectoryId]), [['rerun', t.id], ['save', t.id]]);
      assert.equal(await v.page.locator('.sv-act-stop').isDisabled(), true, 'nothing to stop');
      await v.send({ type: 'agent.status', enabled: false, running: false, reason: 'the workspace is not trusted', endpoint: 'http://127.0.0.1:8000/v1', model: 'spec-o3-7b' });
      await v.page.waitForFunction(() => document.querySelector('.sv-act-run')?.disabled === true);
      assert.match(await v.page.locator('.sv-trace-status').innerText(), /Agent disabled: the workspace is not trusted/);
      assert.equal(await v.page.locator('.sv-act-open').isDisabled(), false, 'saved traces can still be opened');
      // Force zoom asks the plot for its view: whole spectrum → null; zoomed → the range shown.
      await v.send({ type: 'agent.getSelection', requestId: 41 });
      await v.send({ type: 'viewCommand', command: { kind: 'zoomTo', min: 6500, max: 6600 } });
      await v.send({ type: 'agent.getSelection', requestId: 42 });
      const replies = () => v.fromWebview.filter((m) => m.type === 'agent.selection') as Array<{ requestId: number; range: [number, number] | null; restFrame: boolean }>;
      for (let i = 0; i < 100 && replies().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(replies().map((r) => [r.requestId, r.range, r.restFrame]), [[41, null, false], [42, [6500, 6600], false]]);
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('endpoint down: the error is shown clearly with a no-answer badge', async () => {
    const v = await openViewer();
    try {
      const dead = await startVllmServer();
      const url = dead.baseUrl;
      await dead.close();
      const guide = loadGuide('carbon');
      const events: TraceViewEvent[] = [];
      const trace = await startAgentRun({ spectrum, source: { file: LAMOST, sha256: 'x' }, guide, endpoint: { baseUrl: url, model: 'm', retries: 0, timeoutMs: 3000 }, onEvent: (e) => { const x = agentEventToView(e); if (x) events.push(x); } }).done;
      assert.equal(trace.status, 'error');
      await v.send({ type: 'agent.trajectory', info: trajectoryInfo(trace, { title: 'down', origin: 'live' }), events, select: true });
      const t = await waitForTrajectory(v, (x) => x.title === 'down' && !x.running, 'error trajectory');
      assert.equal(t.status, 'error');
      assert.equal(t.verdict, 'no answer');
      assert.ok(t.errors.length >= 1 && /connect|ECONNREFUSED|fetch|network/i.test(t.errors[0]), `error says why: ${t.errors}`);
      assert.equal(await v.page.locator('.sv-trajectory:not([hidden]) [role=alert]').count(), 1);
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('a saved trace replays with the same items and images (Open trace), light theme', async () => {
    const v = await openViewer('light');
    try {
      const trace = await runInto(v, twoZooms, {}, 'live');
      const events = traceToViewEvents(JSON.parse(JSON.stringify(trace)) as Trace);
      await v.send({ type: 'agent.trajectory', info: { ...trajectoryInfo(trace, { title: 'from file', origin: 'file', location: 'traces.jsonl:1' }), id: 'file:traces.jsonl:1' }, events, select: true });
      const live = await waitForTrajectory(v, (x) => x.title === 'live' && !x.running, 'live');
      const saved = await waitForTrajectory(v, (x) => x.title === 'from file' && !x.running, 'file');
      assert.deepEqual(saved.items, live.items);
      assert.deepEqual(saved.images, live.images);
      assert.deepEqual(saved.thinkTexts, live.thinkTexts);
      assert.equal(saved.verdict, 'YES');
      await v.screenshot('webview-trace-light.png');
      assertClean(v);
    } finally {
      await v.close();
    }
  });
});
