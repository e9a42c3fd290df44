// The agent's trace panel: one tab per trajectory (a rerun keeps the old one beside the new),
// each an ordered list of think blocks (sanitised Markdown, streamed in), tool-call chips (click to
// zoom the plot), the exact PNGs the model received, forced zooms marked as such, errors, and the
// answer badge with format flag, status, turns and timings. Reusable: the FITS editor mounts it
// beside the plot; the curation editor can mount it on its own. It talks to the host only through
// the agent messages of src/shared/protocol.ts, via the `post` it is given.
import './trace.css';
import type {
  AgentHostToWebviewMessage,
  AgentStatusMessage,
  AgentWebviewToHostMessage,
  TracePanelReport,
  TraceViewEvent,
  TrajectoryInfo,
  TrajectoryReport,
} from '../../src/shared/protocol';
import { clear, el } from '../dom';
import { pngDataUrl, renderMarkdown, streamingMarkdown } from './markdown';

export interface TraceViewHost {
  post(msg: AgentWebviewToHostMessage): void;
  /** Zoom the main plot to a tool window given in the tool's frame (rest frame when `restFrame`). */
  zoomTo?(window: [number, number], frame: { restFrame: boolean; redshift: number | null }): void;
  /** Called when the panel gets its first trajectory (the embedding page may reveal it). */
  onFirstTrajectory?(): void;
}

const AGENT_TYPES = new Set(['agent.trajectory', 'agent.events', 'agent.info', 'agent.status', 'agent.getSelection']);

/** True for the host messages the trace view handles (agent.getSelection is the embedding page's job). */
export function isTraceViewMessage(msg: { type: string }): msg is AgentHostToWebviewMessage {
  return AGENT_TYPES.has(msg.type);
}

const fmtMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
const fmtWin = (w: [number, number]) => `${trimNum(w[0])}–${trimNum(w[1])} Å`;
function trimNum(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

class Trajectory {
  readonly root: HTMLElement;
  readonly tab: HTMLElement;
  private readonly header: HTMLElement;
  private readonly list: HTMLElement;
  private readonly footer: HTMLElement;
  /** The turn being generated: raw text so far; Markdown before `frozenLen` is rendered once into `frozen`, the rest into `live`. */
  private streaming: { el: HTMLElement; frozen: HTMLElement; live: HTMLElement; frozenLen: number; text: string; turn: number } | null = null;
  private renderPending = false;
  private turnEl: HTMLElement | null = null;
  readonly report: TrajectoryReport;

  constructor(
    public info: TrajectoryInfo,
    private readonly view: TraceView,
  ) {
    this.header = el('div', { class: 'sv-trace-head' });
    this.list = el('ol', { class: 'sv-trace-items', 'aria-live': 'polite' });
    this.footer = el('div', { class: 'sv-trace-foot' });
    this.root = el('section', { class: 'sv-trajectory', 'data-id': info.id, hidden: '' }, [this.header, this.list, this.footer]);
    this.tab = el('button', { class: 'sv-trace-tab', role: 'tab', 'data-id': info.id, type: 'button' }, [], { click: () => view.select(info.id) });
    this.report = { id: info.id, title: info.title, items: [], thinkTexts: [], images: [], verdict: null, formatOk: null, status: null, turns: null, errors: [], running: true, unsafeElements: 0 };
    this.setInfo(info);
    this.footer.append(el('span', { class: 'sv-trace-running' }, ['Running…']));
  }

  setInfo(info: TrajectoryInfo): void {
    this.info = info;
    this.report.title = info.title;
    clear(this.header);
    const frame = info.restFrame && info.redshift !== null ? `rest frame (z = ${info.redshift.toFixed(5)})` : 'observed frame';
    this.header.append(
      el('div', { class: 'sv-trace-title' }, [`Guide ${info.guideId} v${info.guideVersion} · ${info.spectrumId}`]),
      el('div', { class: 'sv-trace-sub' }, [
        `${info.model} @ ${info.endpoint} (${info.protocol}) · windows in ${frame}`,
        info.origin === 'file' && info.location ? ` · from ${info.location}` : '',
        info.savedTo ? ` · saved to ${info.savedTo}` : '',
      ]),
    );
    this.renderTab();
  }

  private renderTab(): void {
    clear(this.tab);
    const state = this.report.running ? 'running' : this.report.verdict === 'YES' ? 'yes' : this.report.verdict === 'NO' ? 'no' : 'none';
    this.tab.className = `sv-trace-tab sv-state-${state}`;
    this.tab.append(el('span', { class: 'sv-dot', 'aria-hidden': 'true' }), this.info.title);
    this.tab.title = `${this.info.title}: ${this.report.running ? 'running' : this.report.status ?? ''}`;
  }

  apply(e: TraceViewEvent): void {
    switch (e.kind) {
      case 'turn_started':
        this.turnEl = null;
        this.startStreaming(e.turn);
        break;
      case 'think_delta':
        if (!this.streaming || this.streaming.turn !== e.turn) this.startStreaming(e.turn);
        this.streaming!.text += e.text;
        this.scheduleStreamRender();
        break;
      case 'retry':
        if (e.discardPartial && this.streaming) {
          this.streaming.text = '';
          this.streaming.frozenLen = 0;
          clear(this.streaming.frozen);
          this.scheduleStreamRender();
        }
        this.add('retry', el('li', { class: 'sv-item sv-retry' }, [`Retrying turn ${e.turn} (attempt ${e.attempt + 1}) in ${fmtMs(e.waitMs)}: ${e.reason}`]), false);
        break;
      case 'turn_complete':
        this.endStreaming();
        break;
      case 'think': {
        this.endStreaming();
        const body = el('div', { class: 'sv-md' });
        body.innerHTML = renderMarkdown(e.text);
        const meta = el('div', { class: 'sv-item-meta' }, [`Turn ${e.turn} · think${e.durationMs !== null ? ` · ${fmtMs(e.durationMs)}` : ''}`]);
        this.add('think', el('li', { class: 'sv-item sv-think' }, [meta, body]));
        this.report.thinkTexts.push(body.textContent ?? '');
        break;
      }
      case 'tool_call': {
        this.endStreaming();
        const chipText = e.window ? `${fmtWin(e.window)}${e.label ? ` · ${e.label}` : ''}` : `${e.name}${e.label ? ` · ${e.label}` : ''}`;
        const chip = el('button', { class: 'sv-chip', type: 'button', title: e.window ? 'Zoom the plot to this window' : 'No usable window', disabled: e.window ? null : '' }, [chipText]);
        if (e.window) {
          const w = e.window;
          chip.addEventListener('click', () => this.view.zoomPlot(w, this.info, chip));
          chip.dataset.window = `${w[0]},${w[1]}`;
        }
        const kids: Array<Node | string> = [el('span', { class: 'sv-item-meta' }, [`Turn ${e.turn} · tool call`]), chip];
        if (e.error) kids.push(el('div', { class: 'sv-item-error' }, [e.error]));
        this.add('tool_call', el('li', { class: 'sv-item sv-call' }, kids));
        break;
      }
      case 'image': {
        this.endStreaming();
        const kind = e.forced ? 'forced_image' : 'image';
        const label = e.forced ? 'Forced zoom (by you)' : `Turn ${e.turn} · tool result`;
        const kids: Array<Node | string> = [el('div', { class: 'sv-item-meta' }, [label, e.window ? ` · ${fmtWin(e.window)}` : '', e.renderMs !== null ? ` · rendered in ${fmtMs(e.renderMs)}` : ''])];
        if (e.png) {
          const img = el('img', { class: 'sv-tool-image', alt: `${e.forced ? 'forced zoom' : 'zoom'} image ${e.width}×${e.height}: ${e.text}`, width: String(e.width), height: String(e.height) }) as HTMLImageElement;
          img.src = pngDataUrl(e.png);
          if (e.window) {
            const w = e.window;
            img.title = 'Click to zoom the plot to this window';
            img.addEventListener('click', () => this.view.zoomPlot(w, this.info, null));
          }
          kids.push(img);
          this.report.images.push({ width: e.width, height: e.height, forced: e.forced, window: e.window, bytes: e.png.length });
        }
        kids.push(el('div', { class: e.ok ? 'sv-tool-text' : 'sv-item-error' }, [e.text]));
        this.add(kind, el('li', { class: `sv-item sv-image${e.forced ? ' sv-forced' : ''}` }, kids));
        break;
      }
      case 'answer': {
        this.endStreaming();
        this.report.verdict = e.verdict ?? 'no answer';
        this.report.formatOk = e.formatOk;
        const body = el('div', { class: 'sv-md' });
        body.innerHTML = renderMarkdown(e.text);
        this.add('answer', el('li', { class: 'sv-item sv-answer' }, [
          el('div', { class: 'sv-item-meta' }, [`Turn ${e.turn} · answer`]),
          badge(e.verdict),
          el('span', { class: `sv-format ${e.formatOk ? 'sv-format-ok' : 'sv-format-bad'}`, title: e.formatErrors.join('; ') }, [e.formatOk ? 'format ✓' : `format ✗ ${e.formatErrors.join('; ')}`]),
          body,
        ]));
        break;
      }
      case 'error':
        this.endStreaming();
        this.report.errors.push(e.message);
        this.add('error', el('li', { class: 'sv-item sv-trace-error', role: 'alert' }, [el('span', { class: 'sv-item-meta' }, [`Turn ${e.turn} · error`]), e.message]));
        break;
      case 'finished':
        this.endStreaming();
        this.finish(e);
        break;
    }
  }

  private finish(e: Extract<TraceViewEvent, { kind: 'finished' }>): void {
    this.report.running = false;
    this.report.status = e.status;
    this.report.turns = e.turns;
    if (this.report.verdict === null) this.report.verdict = 'no answer';
    clear(this.footer);
    const verdict = this.report.verdict === 'YES' || this.report.verdict === 'NO' ? this.report.verdict : null;
    const parts: Array<HTMLElement | null> = [
      badge(verdict),
      el('span', { class: `sv-format ${this.report.formatOk ? 'sv-format-ok' : 'sv-format-bad'}` }, [this.report.formatOk ? 'format ✓' : 'format ✗']),
      el('span', { class: `sv-status sv-status-${e.status}` }, [e.status]),
      el('span', {}, [`${e.turns} turn${e.turns === 1 ? '' : 's'}`]),
      el('span', {}, [fmtMs(e.totalMs)]),
      e.tokens !== null ? el('span', {}, [`${e.tokens.toLocaleString()} tokens`]) : null,
      e.error && e.status !== 'answered' ? el('span', { class: 'sv-item-error' }, [e.error]) : null,
    ];
    this.footer.append(...parts.filter((p): p is HTMLElement => p !== null));
    this.renderTab();
  }

  private startStreaming(turn: number): void {
    this.endStreaming();
    const frozen = el('div');
    const live = el('div');
    const body = el('div', { class: 'sv-md sv-streaming-text' }, [frozen, live]);
    const li = el('li', { class: 'sv-item sv-think sv-streaming' }, [el('div', { class: 'sv-item-meta' }, [`Turn ${turn} · generating…`]), body]);
    this.list.append(li);
    this.streaming = { el: body, frozen, live, frozenLen: 0, text: '', turn };
    this.turnEl = li;
    this.view.changed();
  }

  private scheduleStreamRender(): void {
    if (this.renderPending) return;
    this.renderPending = true;
    // Re-render only the streaming block, at most once per frame, however fast tokens come.
    requestAnimationFrame(() => {
      this.renderPending = false;
      const s = this.streaming;
      if (!s) return;
      const md = streamingMarkdown(s.text);
      // Paragraphs that are complete (before the last blank line, outside a code fence) are rendered
      // once and kept; only the paragraph still growing is re-rendered: cost stays flat as text grows.
      const cut = md.lastIndexOf('\n\n');
      if (cut > s.frozenLen && (md.slice(0, cut).match(/```/g) ?? []).length % 2 === 0) {
        const part = el('div');
        part.innerHTML = renderMarkdown(md.slice(s.frozenLen, cut));
        s.frozen.append(part);
        s.frozenLen = cut;
      }
      s.live.innerHTML = renderMarkdown(md.slice(s.frozenLen));
      this.view.changed(this);
    });
  }

  private endStreaming(): void {
    if (!this.streaming) return;
    this.turnEl?.remove();
    this.turnEl = null;
    this.streaming = null;
  }

  private add(kind: string, li: HTMLElement, record = true): void {
    if (record) this.report.items.push(kind);
    this.list.append(li);
    this.view.changed(this);
  }

  /** Items as the report lists them, with a trailing 'streaming' while a turn is being generated. */
  snapshot(): TrajectoryReport {
    const unsafe = Array.from(this.list.querySelectorAll('.sv-md *')).filter(
      (e) => /^(IMG|SCRIPT|IFRAME|OBJECT|EMBED|STYLE|FORM|SVG)$/i.test(e.tagName) || Array.from(e.attributes).some((a) => /^on/i.test(a.name) || /^\s*javascript:/i.test(a.value)),
    ).length;
    return { ...this.report, unsafeElements: unsafe, items: this.streaming ? [...this.report.items, 'streaming'] : [...this.report.items], thinkTexts: [...this.report.thinkTexts], images: [...this.report.images], errors: [...this.report.errors] };
  }
}

function badge(verdict: 'YES' | 'NO' | null): HTMLElement {
  const cls = verdict === 'YES' ? 'sv-badge-yes' : verdict === 'NO' ? 'sv-badge-no' : 'sv-badge-none';
  return el('span', { class: `sv-verdict ${cls}`, role: 'status' }, [verdict ?? 'no answer']);
}

export class TraceView {
  private readonly trajectories = new Map<string, Trajectory>();
  private selected: string | null = null;
  private readonly tabs: HTMLElement;
  private readonly body: HTMLElement;
  private readonly statusLine: HTMLElement;
  private readonly buttons: Record<'run' | 'rerun' | 'stop' | 'forceZoom' | 'save' | 'open', HTMLButtonElement>;
  private status: AgentStatusMessage | null = null;
  private reportPending = false;
  private stickToEnd = true;

  constructor(
    readonly container: HTMLElement,
    private readonly host: TraceViewHost,
  ) {
    const button = (action: keyof TraceView['buttons'], text: string, title: string) =>
      el('button', { class: `sv-trace-btn sv-act-${action}`, type: 'button', title }, [text], {
        click: () => host.post({ type: 'agent.action', action, trajectoryId: this.selected }),
      }) as HTMLButtonElement;
    this.buttons = {
      run: button('run', '▶ Run', 'Run the agent on this spectrum (pick a guide)'),
      rerun: button('rerun', '↻ Rerun', 'Run again with the same guide and settings; the old trajectory stays'),
      stop: button('stop', '■ Stop', 'Stop the running trajectory'),
      forceZoom: button('forceZoom', 'Force zoom', 'Show the model the current plot view (or a typed range) and let it continue'),
      save: button('save', 'Save', 'Append this trajectory to the traces file'),
      open: button('open', 'Open…', 'Open a saved trajectory from a .jsonl file'),
    };
    this.statusLine = el('div', { class: 'sv-trace-status' }, ['Agent: no trajectory yet.']);
    this.tabs = el('div', { class: 'sv-trace-tabs', role: 'tablist', 'aria-label': 'Trajectories' });
    this.body = el('div', { class: 'sv-trace-body' });
    this.body.addEventListener('scroll', () => {
      this.stickToEnd = this.body.scrollTop + this.body.clientHeight >= this.body.scrollHeight - 24;
    });
    container.classList.add('sv-trace');
    container.append(
      el('div', { class: 'sv-trace-toolbar', role: 'toolbar', 'aria-label': 'Agent' }, Object.values(this.buttons)),
      this.statusLine,
      this.tabs,
      this.body,
    );
    this.updateButtons();
    host.post({ type: 'agent.ready' });
  }

  /** Handle a host message; false when it is not one of the trace view's. */
  handle(msg: { type: string }): boolean {
    if (!isTraceViewMessage(msg)) return false;
    switch (msg.type) {
      case 'agent.trajectory': {
        const had = this.trajectories.size > 0;
        this.trajectories.get(msg.info.id)?.root.remove();
        this.trajectories.get(msg.info.id)?.tab.remove();
        const t = new Trajectory(msg.info, this);
        this.trajectories.set(msg.info.id, t);
        this.tabs.append(t.tab);
        this.body.append(t.root);
        for (const e of msg.events) t.apply(e);
        if (msg.select || !this.selected) this.select(msg.info.id);
        if (!had) this.host.onFirstTrajectory?.();
        break;
      }
      case 'agent.events': {
        const t = this.trajectories.get(msg.trajectoryId);
        if (!t) return true;
        for (const e of msg.events) t.apply(e);
        break;
      }
      case 'agent.info':
        this.trajectories.get(msg.info.id)?.setInfo(msg.info);
        break;
      case 'agent.status':
        this.status = msg;
        break;
      case 'agent.getSelection':
        return false; // the embedding page knows the plot
    }
    this.changed();
    return true;
  }

  select(id: string): void {
    if (!this.trajectories.has(id)) return;
    this.selected = id;
    for (const [tid, t] of this.trajectories) {
      const on = tid === id;
      t.root.hidden = !on;
      t.tab.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    this.stickToEnd = true;
    this.changed();
  }

  /** Called by a chip or an image: zoom the embedding page's plot. */
  zoomPlot(window: [number, number], info: TrajectoryInfo, chip: HTMLElement | null): void {
    for (const c of Array.from(this.container.querySelectorAll('.sv-chip.sv-active'))) c.classList.remove('sv-active');
    chip?.classList.add('sv-active');
    this.host.zoomTo?.(window, { restFrame: info.restFrame, redshift: info.redshift });
  }

  /** Something changed: keep the view scrolled to the newest item, refresh buttons, report soon. */
  changed(from?: Trajectory): void {
    if ((!from || from.info.id === this.selected) && this.stickToEnd) this.scheduleScroll();
    this.updateButtons();
    this.scheduleReport();
  }

  private scrollPending = false;
  private scheduleScroll(): void {
    if (this.scrollPending) return;
    this.scrollPending = true;
    requestAnimationFrame(() => {
      this.scrollPending = false;
      this.body.scrollTop = this.body.scrollHeight;
    });
  }

  private updateButtons(): void {
    const sel = this.selected ? this.trajectories.get(this.selected) : undefined;
    const enabled = this.status?.enabled ?? true;
    const running = !!sel?.report.running && sel.info.origin === 'live';
    const set = (b: HTMLButtonElement, on: boolean) => { b.disabled = !on; };
    set(this.buttons.run, enabled);
    set(this.buttons.rerun, enabled && !!sel);
    set(this.buttons.stop, running);
    set(this.buttons.forceZoom, enabled && !!sel && sel.info.origin === 'live');
    set(this.buttons.save, !!sel && !sel.report.running && !sel.info.savedTo);
    set(this.buttons.open, true);
    const s = this.status;
    let text: string;
    if (s && !s.enabled) text = `Agent disabled: ${s.reason ?? 'not available here'}`;
    else if (s) text = `${s.running ? 'Running · ' : ''}${s.model} @ ${s.endpoint}${s.reason ? ` · ${s.reason}` : ''}`;
    else text = this.trajectories.size ? '' : 'Agent: no trajectory yet.';
    if (this.statusLine.textContent !== text) this.statusLine.textContent = text;
    this.statusLine.classList.toggle('sv-disabled', !!s && !s.enabled);
  }

  report(): TracePanelReport {
    return { selected: this.selected, trajectories: [...this.trajectories.values()].map((t) => t.snapshot()) };
  }

  private scheduleReport(): void {
    if (this.reportPending) return;
    this.reportPending = true;
    // After the frame is painted ("reported" means on screen), and at most ~8 times a second:
    // while tokens stream, the report must not compete with drawing them.
    setTimeout(() => requestAnimationFrame(() => setTimeout(() => {
      this.reportPending = false;
      const r = this.report();
      (window as unknown as { __specvetTraceReport?: TracePanelReport }).__specvetTraceReport = r;
      this.host.post({ type: 'agent.report', report: r });
    }, 0)), 120);
  }
}
