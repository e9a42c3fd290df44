// The FITS viewer webview: plot, spectrum picker, metadata/header panel, catalogue table, error
// view, keyboard shortcuts. Talks to the host only through src/shared/protocol.ts.
import 'uplot/dist/uPlot.min.css';
import './fits.css';
import './trace/trace.css'; // the trace panel's code arrives later (fits-late.entry.ts), its layout now
import type {
  ErrorMessage,
  FileLoadedMessage,
  HostToWebviewMessage,
  RenderReport,
  SpectrumMessage,
  ViewCommand,
} from '../src/shared/protocol';
import { LINE_GROUPS, type LineGroupId } from '../src/shared/lines';
import { SpectrumPlot, type DrawInfo, type PlotOptions } from './plot';
import { describeSmoothing, SMOOTHING_LIMITS, type Smoothing, type SmoothingKind } from './series';
import { plotColours, themeKind, watchTheme } from './theme';
import { getVsCodeApi, onHostMessage } from './vscodeApi';
import { el, clear } from './dom';
import type { TraceView } from './trace/traceView';
import type { FitsLateModules } from './fits-late.entry';

/** This script's URL, read while it runs (data-src when the host inlined it): the late bundle sits beside it. */
const mainScript = document.currentScript as HTMLScriptElement | null;
const mainScriptSrc = mainScript?.src || mainScript?.dataset.src || '';

/** What survives hiding and reopening the editor (webview setState/getState). */
interface ViewState {
  version: 1;
  spectrumIndex: number;
  xRange: [number, number] | null;
  restFrame: boolean;
  showErrors: boolean;
  showMasked: boolean;
  showSky: boolean;
  showArms: boolean;
  robustY: boolean;
  smoothing: Smoothing;
  lineGroups: Record<LineGroupId, boolean>;
  sideTab: 'object' | 'header' | 'hdus';
  headerQuery: string;
}

function defaultState(): ViewState {
  return {
    version: 1,
    spectrumIndex: 0,
    xRange: null,
    restFrame: false,
    showErrors: true,
    showMasked: true,
    showSky: false,
    showArms: false,
    robustY: false,
    smoothing: { kind: 'none', width: 5 },
    lineGroups: Object.fromEntries(LINE_GROUPS.map((g) => [g.id, g.defaultOn])) as Record<LineGroupId, boolean>,
    sideTab: 'object',
    headerQuery: '',
  };
}

const vscode = getVsCodeApi<ViewState>();
const restored = vscode.getState();
const state: ViewState = restored && restored.version === 1 ? { ...defaultState(), ...restored } : defaultState();
const saveState = () => vscode.setState(state);

const app = document.getElementById('app')!;
// User-timing marks cut a Chromium trace of the editor into opens (npm run bench editor with SPECVET_EDITOR_TRACE).
performance.mark('specvet:script');
let file: FileLoadedMessage | null = null;
let current: SpectrumMessage | null = null;
let plot: SpectrumPlot | null = null;
let lastDraw: DrawInfo | null = null;
let firstPaintMs: number | null = null;
let firstPaintDone = false;
let nextRequestId = 1;
let latestRequest = 0;
/** Spectrum asked for and not shown yet: repeated n/p presses step on from it, not from the shown one. */
let pendingIndex: number | null = null;
let errorShown: ErrorMessage | null = null;
const webviewId = Math.random().toString(36).slice(2, 10);
/** Wall-clock milestones of this webview's first paint (converted to ms after the host's openedAt). */
const milestones: Record<string, number> = {
  // When VS Code's webview document started loading, then when our bundle began to run.
  document: Math.round(performance.timeOrigin),
  script: Date.now(),
};
// ...and in between, when the bundle's bytes had arrived when fetched (fetching vs compiling).
for (const r of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
  if (r.name === mainScriptSrc && r.responseEnd > 0) milestones.scriptFetched = Math.round(performance.timeOrigin + r.responseEnd);
}
/** The agent's trace panel beside the plot (webview/trace; hidden until a trajectory arrives). */
let traceView: TraceView | null = null;
/** Its box in the layout, waiting for the late bundle when that has not run yet. */
let traceBox: HTMLElement | null = null;
/** The late bundle (toolkit components, trace panel), fetched after the first paint; see loadLate. */
let late: FitsLateModules | null = null;
let lateState: 'idle' | 'loading' | 'done' = 'idle';
/** A report asked for while the late bundle loads: sent once the controls work. */
let reportWaiting = false;
/** Whether this page asked the host for the file (see the load listener at the end). */
let readySent = false;
/** The side panel is due once the plot has painted. */
let sideWaiting = false;
const nonce = app.getAttribute('data-nonce') ?? '';
const ui: {
  picker?: HTMLElement & { value: string };
  status?: HTMLElement;
  cursor?: HTMLElement;
  banner?: HTMLElement;
  side?: HTMLElement;
  cheat?: HTMLElement;
  smoothingLabel?: HTMLElement;
  toolbar?: HTMLElement;
} = {};

/**
 * Fetch the second bundle: the toolkit's web components (they upgrade the toolbar's elements in
 * place) and the trace panel. Loaded after the first paint so the spectrum never waits for them.
 */
function loadLate(): void {
  if (lateState !== 'idle') return;
  lateState = 'loading';
  const script = document.createElement('script');
  script.nonce = nonce;
  script.src = new URL('fits-late.js', mainScriptSrc || document.baseURI).toString();
  script.addEventListener('load', () => lateLoaded(window.specvetFitsLate ?? null, `${script.src} ran but defined nothing`));
  script.addEventListener('error', () => lateLoaded(null, `cannot load ${script.src}`));
  document.head.appendChild(script);
}

function lateLoaded(modules: FitsLateModules | null, problem: string): void {
  lateState = 'done';
  milestones.interactive ??= Date.now();
  late = modules;
  if (late) createTraceView();
  else vscode.postMessage({ type: 'webviewError', message: `the toolbar controls and agent panel are unavailable: ${problem}` });
  if (reportWaiting) {
    reportWaiting = false;
    report();
  }
}

function createTraceView(): void {
  if (!late || !traceBox || traceView) return;
  traceView = new late.TraceView(traceBox, { post: (m) => vscode.postMessage(m), zoomTo: zoomToToolWindow });
}

function report(): void {
  // "rendered" promises a working editor: wait for the controls (the paint itself is already timed).
  if (lateState !== 'done') {
    reportWaiting = true;
    loadLate();
    return;
  }
  const view: RenderReport['view'] = errorShown ? 'error' : file?.catalog ? 'catalog' : current ? 'plot' : 'empty';
  const r: RenderReport = {
    webviewId,
    view,
    fileName: file?.fileName ?? errorShown?.fileName ?? '',
    title: current ? titleOf(current) : file?.fileName ?? '',
    spectrumIndex: current?.index ?? -1,
    spectrumCount: file?.spectra.length ?? 0,
    nPoints: current?.wavelength.length ?? 0,
    drawnPoints: lastDraw?.drawnPoints ?? 0,
    drawMs: lastDraw?.ms ?? 0,
    xRange: lastDraw?.xRange ?? null,
    yRange: lastDraw?.yRange ?? null,
    axisLabel: plot?.axisLabel() ?? '',
    smoothing: describeSmoothing(state.smoothing),
    arrayTypes: current
      ? Object.fromEntries(
          (['wavelength', 'flux', 'ivar', 'mask', 'sky'] as const).map((k) => [k, current![k] ? (current![k] as object).constructor.name : 'null']),
        )
      : {},
    firstPaintMs,
    phases: file ? { ...(file.hostPhases ?? {}), ...Object.fromEntries(Object.entries(milestones).map(([k, t]) => [k, t - file!.openedAt])) } : {},
    errorText: errorShown ? errorShown.message : null,
    catalogRows: file?.catalog?.length ?? 0,
    theme: themeKind(),
  };
  vscode.postMessage({ type: 'rendered', report: r });
  (window as unknown as { __specvetReport?: RenderReport }).__specvetReport = r;
}

function titleOf(s: SpectrumMessage): string {
  const m = s.meta;
  const parts = [`${m.survey} ${m.id}`];
  if (m.name && m.name !== m.id) parts.push(m.name);
  if (m.objectClass) parts.push(m.subclass ? `${m.objectClass} ${m.subclass}` : m.objectClass);
  if (m.redshift !== null) parts.push(`z = ${m.redshift.toFixed(5)}`);
  return parts.join(' · ');
}

function plotOptions(): PlotOptions {
  return {
    showErrors: state.showErrors,
    showMasked: state.showMasked,
    showSky: state.showSky,
    showArms: state.showArms,
    robustY: state.robustY,
    restFrame: state.restFrame,
    smoothing: state.smoothing,
    lineGroups: state.lineGroups,
  };
}

// ------------------------------------------------------------------------------------------
// Views
// ------------------------------------------------------------------------------------------

function showError(msg: ErrorMessage): void {
  errorShown = msg;
  plot?.destroy();
  plot = null;
  clear(app);
  ui.cheat = undefined;
  const box = el('div', { class: 'sv-error', role: 'alert' }, [
    el('div', { class: 'sv-error-icon', 'aria-hidden': 'true' }, ['⚠']),
    el('h2', {}, [`Cannot show ${msg.fileName}`]),
    el('p', { class: 'sv-error-message' }, [msg.message]),
    msg.where ? el('p', { class: 'sv-error-where' }, [`Where: ${msg.where}`]) : null,
    el('p', { class: 'sv-error-code' }, [`Error code: ${msg.code}`]),
  ]);
  if (msg.hdus?.length) box.appendChild(hduTable(msg.hdus));
  app.appendChild(box);
  report();
}

function hduTable(hdus: FileLoadedMessage['hdus']): HTMLElement {
  return el('table', { class: 'sv-table sv-hdus' }, [
    el('thead', {}, [el('tr', {}, ['#', 'Name', 'Kind', 'Detail'].map((h) => el('th', {}, [h])))]),
    el('tbody', {}, hdus.map((h) => el('tr', {}, [
      el('td', {}, [String(h.index)]), el('td', {}, [h.name]), el('td', {}, [h.kind]),
      el('td', {}, [h.skipped ? `${h.detail} — skipped: ${h.skipped}` : h.detail]),
    ]))),
  ]);
}

function buildLayout(f: FileLoadedMessage): void {
  plot?.destroy(); // a reload rebuilds everything
  plot = null;
  clear(app);
  errorShown = null;
  const multi = f.spectra.length > 1;
  const picker = el('vscode-dropdown', { class: 'sv-picker', title: 'Spectrum in this file (n / p)', 'aria-label': 'Spectrum' },
    f.spectra.map((s) => el('vscode-option', { value: String(s.index) }, [pickerLabel(s)]))) as HTMLElement & { value: string };
  picker.addEventListener('change', () => requestSpectrum(Number(picker.value)));
  ui.picker = picker;

  const toolbar = el('div', { class: 'sv-toolbar', role: 'toolbar' }, [
    el('div', { class: 'sv-group' }, [
      el('vscode-button', { appearance: 'icon', title: 'Previous spectrum (p)', 'aria-label': 'Previous spectrum', class: 'sv-prev', disabled: multi ? null : '' }, ['◀'], { click: () => step(-1) }),
      picker,
      el('vscode-button', { appearance: 'icon', title: 'Next spectrum (n)', 'aria-label': 'Next spectrum', class: 'sv-next', disabled: multi ? null : '' }, ['▶'], { click: () => step(1) }),
      el('span', { class: 'sv-count' }, [`${f.spectra.length} spectr${f.spectra.length === 1 ? 'um' : 'a'}`]),
    ]),
    el('div', { class: 'sv-group' }, [
      toggle('Error band', 'e', () => state.showErrors, (v) => (state.showErrors = v), 'sv-toggle-errors'),
      toggle('Masked', 'm', () => state.showMasked, (v) => (state.showMasked = v), 'sv-toggle-masked'),
      toggle('Sky', 'k', () => state.showSky, (v) => (state.showSky = v), 'sv-toggle-sky'),
      toggle('Arms', 'a', () => state.showArms, (v) => (state.showArms = v), 'sv-toggle-arms'),
      toggle('Rest frame', 'r', () => state.restFrame, (v) => (state.restFrame = v), 'sv-toggle-rest'),
      toggle('Robust y', 'y', () => state.robustY, (v) => (state.robustY = v), 'sv-toggle-robust'),
    ]),
    el('div', { class: 'sv-group' }, [
      el('vscode-dropdown', { class: 'sv-smoothing', title: 'Smoothing kernel (s)', 'aria-label': 'Smoothing kernel' },
        (['none', 'boxcar', 'gaussian'] as SmoothingKind[]).map((k) => el('vscode-option', { value: k }, [k === 'none' ? 'No smoothing' : k]))
      , { change: (e) => setSmoothing((e.target as HTMLElement & { value: string }).value as SmoothingKind, state.smoothing.width) }),
      el('vscode-button', { appearance: 'icon', title: 'Narrower kernel ([)', 'aria-label': 'Narrower kernel' }, ['−'], { click: () => widen(-1) }),
      (ui.smoothingLabel = el('span', { class: 'sv-smoothing-label' }, [])),
      el('vscode-button', { appearance: 'icon', title: 'Wider kernel (])', 'aria-label': 'Wider kernel' }, ['+'], { click: () => widen(1) }),
    ]),
    el('div', { class: 'sv-group sv-right' }, [
      el('vscode-button', { appearance: 'secondary', title: 'Reset zoom (0, Home, double-click)', class: 'sv-reset' }, ['Reset zoom'], { click: () => plot?.reset() }),
      el('vscode-button', { appearance: 'icon', title: 'Keyboard shortcuts (?)', 'aria-label': 'Keyboard shortcuts', class: 'sv-help' }, ['?'], { click: () => toggleCheat() }),
    ]),
  ]);
  ui.toolbar = toolbar;
  const lines = el('div', { class: 'sv-lines', role: 'group', 'aria-label': 'Line markers' }, [
    el('span', { class: 'sv-lines-title', title: 'Line and band markers follow the redshift (l toggles all)' }, ['Lines:']),
    ...LINE_GROUPS.map((g) =>
      toggle(g.name, null, () => state.lineGroups[g.id], (v) => (state.lineGroups[g.id] = v), `sv-line-${g.id}`)),
  ]);

  ui.banner = el('div', { class: 'sv-banner', hidden: '' }, []);
  const plotBox = el('div', { class: 'sv-plot', tabindex: '0', 'aria-label': 'Spectrum plot: drag or wheel to zoom, shift-drag to pan, double-click to reset' });
  ui.status = el('div', { class: 'sv-plot-status' }, []);
  ui.cursor = el('div', { class: 'sv-cursor' }, []);
  ui.side = el('aside', { class: 'sv-side' }, []);
  ui.cheat = undefined; // built when first asked for (toggleCheat): nothing the first paint needs

  traceBox = f.catalog ? null : el('section', { class: 'sv-trace', 'aria-label': 'Agent trace' });
  traceView = null;
  const main = f.catalog
    ? el('div', { class: 'sv-main' }, [el('section', { class: 'sv-catalog-wrap' }, [catalogTable(f)]), ui.side])
    : el('div', { class: 'sv-main' }, [
        el('section', { class: 'sv-plot-wrap' }, [ui.banner, plotBox, el('div', { class: 'sv-statusbar' }, [ui.status, ui.cursor])]),
        traceBox,
        ui.side,
      ]);
  app.append(
    el('header', { class: 'sv-title' }, [el('h1', {}, [f.fileName]), el('span', { class: 'sv-format' }, [`${f.survey} · ${f.format}`])]),
    ...(f.catalog ? [] : [toolbar, lines]),
    main,
  );
  updateSmoothingLabel();
  // The side panel (header table, metadata) is built after the next paint (scheduleReport): the
  // spectrum's first frame must not wait for the layout of a few hundred header rows.
  sideWaiting = true;
  if (!f.catalog) {
    plot = new SpectrumPlot(plotBox, plotOptions(), plotColours(), onDraw, (t) => (ui.cursor!.textContent = t));
    createTraceView();
  }
}

function pickerLabel(s: FileLoadedMessage['spectra'][number]): string {
  const bits = [`#${s.index}`, s.id];
  if (s.empty) bits.push('∅ empty fibre');
  else {
    if (s.objectClass) bits.push(s.objectClass);
    if (s.redshift !== null) bits.push(`z=${s.redshift.toFixed(4)}`);
  }
  return bits.join(' · ');
}

function toggle(label: string, key: string | null, get: () => boolean, set: (v: boolean) => void, cls: string): HTMLElement {
  const box = el('vscode-checkbox', { class: cls, title: key ? `${label} (${key})` : label, checked: get() ? '' : null }, [label]) as HTMLElement & { checked: boolean };
  box.addEventListener('change', () => {
    if (box.checked === get()) return;
    set(box.checked);
    optionsChanged();
  });
  return box;
}

/** Bring toolbar controls in line with `state` after a keyboard shortcut changed it. */
function syncControls(): void {
  const set = (cls: string, v: boolean) => {
    const b = app.querySelector(`.${cls}`) as (HTMLElement & { checked: boolean }) | null;
    if (b && b.checked !== v) b.checked = v;
  };
  set('sv-toggle-errors', state.showErrors);
  set('sv-toggle-masked', state.showMasked);
  set('sv-toggle-sky', state.showSky);
  set('sv-toggle-arms', state.showArms);
  set('sv-toggle-robust', state.robustY);
  set('sv-toggle-rest', state.restFrame);
  for (const g of LINE_GROUPS) set(`sv-line-${g.id}`, state.lineGroups[g.id]);
  const sm = app.querySelector('.sv-smoothing') as (HTMLElement & { value: string }) | null;
  if (sm && sm.value !== state.smoothing.kind) sm.value = state.smoothing.kind;
  updateSmoothingLabel();
}

function optionsChanged(): void {
  syncControls();
  saveState();
  plot?.setOptions(plotOptions());
}

function updateSmoothingLabel(): void {
  if (ui.smoothingLabel) ui.smoothingLabel.textContent = describeSmoothing(state.smoothing);
}

function setSmoothing(kind: SmoothingKind, width: number): void {
  const lim = kind === 'none' ? null : SMOOTHING_LIMITS[kind];
  let w = width;
  if (lim) {
    w = Math.min(lim.max, Math.max(lim.min, Math.round(w)));
    if (kind === 'boxcar' && w % 2 === 0) w += 1;
  }
  state.smoothing = { kind, width: w };
  optionsChanged();
}

function widen(dir: 1 | -1): void {
  const k = state.smoothing.kind === 'none' ? 'boxcar' : state.smoothing.kind;
  setSmoothing(k, state.smoothing.width + dir * SMOOTHING_LIMITS[k].step);
}

function cycleSmoothing(): void {
  const order: SmoothingKind[] = ['none', 'boxcar', 'gaussian'];
  const next = order[(order.indexOf(state.smoothing.kind) + 1) % order.length];
  setSmoothing(next, next === 'gaussian' ? Math.max(1, Math.round(state.smoothing.width / 2)) : next === 'boxcar' ? 5 : state.smoothing.width);
}

function catalogTable(f: FileLoadedMessage): HTMLElement {
  const rows = f.catalog ?? [];
  const fmt = (v: number | null, d: number) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(d));
  return el('div', { class: 'sv-catalog' }, [
    el('h2', {}, [`Redshift catalogue: ${rows.length} target${rows.length === 1 ? '' : 's'}`]),
    el('p', { class: 'sv-note' }, ['This file is a redrock redshift catalogue, not a spectrum: open the matching coadd file to see the spectra.']),
    el('table', { class: 'sv-table sv-catalog-table' }, [
      el('thead', {}, [el('tr', {}, ['TARGETID', 'Z', 'ZERR', 'ZWARN', 'SPECTYPE', 'SUBTYPE', 'ΔΧ²'].map((h) => el('th', {}, [h])))]),
      el('tbody', {}, rows.map((r) => el('tr', { class: r.zWarn ? 'sv-warn' : null }, [
        el('td', {}, [r.targetId]), el('td', {}, [r.z.toFixed(6)]), el('td', {}, [fmt(r.zErr, 6)]),
        el('td', {}, [r.zWarn === null ? '—' : String(r.zWarn)]), el('td', {}, [r.spectype]), el('td', {}, [r.subtype || '']),
        el('td', {}, [fmt(r.deltaChi2, 1)]),
      ]))),
    ]),
  ]);
}

function renderSide(): void {
  const side = ui.side;
  if (!side || !file) return;
  clear(side);
  const tabs = el('vscode-panels', { activeid: `tab-${state.sideTab}`, 'aria-label': 'File details' }, [
    el('vscode-panel-tab', { id: 'tab-object' }, ['Object']),
    el('vscode-panel-tab', { id: 'tab-header' }, ['Header', el('span', { class: 'sv-tab-count' }, [String(file.primaryHeader.length)])]),
    el('vscode-panel-tab', { id: 'tab-hdus' }, ['HDUs']),
    el('vscode-panel-view', { id: 'view-object' }, [el('div', { class: 'sv-meta' }, [])]),
    el('vscode-panel-view', { id: 'view-header' }, [headerView()]),
    el('vscode-panel-view', { id: 'view-hdus' }, [hduTable(file.hdus)]),
  ]);
  tabs.addEventListener('change', () => {
    const id = (tabs as HTMLElement & { activeid?: string }).activeid ?? '';
    const t = id.replace(/^tab-/, '') as ViewState['sideTab'];
    if (t && t !== state.sideTab && ['object', 'header', 'hdus'].includes(t)) { state.sideTab = t; saveState(); }
  });
  side.appendChild(tabs);
  renderMeta();
}

function headerView(): HTMLElement {
  const f = file!;
  const count = el('span', { class: 'sv-header-count' }, []);
  const body = el('tbody', {}, f.primaryHeader.map(([k, v, c]) => el('tr', { 'data-search': `${k} ${v} ${c}`.toLowerCase() }, [
    el('td', { class: 'sv-key' }, [k]), el('td', { class: 'sv-val' }, [v]), el('td', { class: 'sv-comment' }, [c]),
  ])));
  const apply = (q: string) => {
    const needle = q.trim().toLowerCase();
    let shown = 0;
    for (const tr of Array.from(body.children) as HTMLElement[]) {
      const hit = !needle || (tr.dataset.search ?? '').includes(needle);
      tr.hidden = !hit;
      if (hit) shown++;
    }
    count.textContent = needle ? `${shown} of ${f.primaryHeader.length} cards` : `${f.primaryHeader.length} cards`;
  };
  const search = el('vscode-text-field', { class: 'sv-header-search', placeholder: 'Search keyword, value or comment (/)', value: state.headerQuery, 'aria-label': 'Search header' }, []) as HTMLElement & { value: string };
  search.addEventListener('input', () => { state.headerQuery = search.value; saveState(); apply(search.value); });
  apply(state.headerQuery);
  return el('div', { class: 'sv-header' }, [
    el('div', { class: 'sv-header-tools' }, [search, count]),
    el('table', { class: 'sv-table sv-header-table' }, [body]),
  ]);
}

function renderMeta(): void {
  const box = ui.side?.querySelector('.sv-meta');
  if (!box) return;
  clear(box as HTMLElement);
  if (!current) {
    box.appendChild(el('p', { class: 'sv-note' }, [file?.catalog ? 'Catalogue file: no single object.' : 'No spectrum loaded.']));
    return;
  }
  const m = current.meta;
  const s = current;
  const fmt = (v: number | null, d: number) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(d));
  const n = s.wavelength.length;
  let masked = 0;
  if (s.mask) for (let i = 0; i < n; i++) if (s.mask[i] !== 0) masked++;
  const rows: Array<[string, string]> = [
    ['Survey', `${m.survey} (${m.format})`],
    ['Identifier', m.id],
    ['Name', m.name ?? '—'],
    ['Class', m.objectClass ? (m.subclass ? `${m.objectClass} / ${m.subclass}` : m.objectClass) : 'unknown'],
    ['Redshift', m.redshift === null ? 'unknown' : `${m.redshift.toFixed(6)}${m.redshiftSource?.error != null ? ` ± ${m.redshiftSource.error.toExponential(1)}` : ''}`],
    ['z from', m.redshiftSource?.origin ?? '—'],
    ['RA, Dec', m.ra === null ? '—' : `${fmt(m.ra, 6)}°, ${fmt(m.dec, 6)}°`],
    ['S/N', Object.keys(m.snr).length ? Object.entries(m.snr).map(([b, v]) => `${b} ${v.toFixed(1)}`).join(', ') : '—'],
    ['MJD', m.mjd === null ? '—' : String(m.mjd)],
    ['Plate / fibre', m.plate === null && m.fiber === null ? '—' : `${m.plate ?? '—'} / ${m.fiber ?? '—'}`],
    ['Target id', m.targetId ?? '—'],
    ['Pixels', `${n}${masked ? ` (${masked} masked)` : ''}`],
    ['Wavelength', n ? `${s.wavelength[0].toFixed(1)}–${s.wavelength[n - 1].toFixed(1)} Å (${s.medium})` : '—'],
    ['Arms', s.arms.length ? s.arms.join(', ') + ' (combined by inverse variance; a shows them)' : '—'],
    ['Flux unit', m.fluxUnit],
    ['Sky', s.sky ? 'available (k)' : 'not in file'],
  ];
  box.appendChild(el('table', { class: 'sv-table sv-meta-table' }, [el('tbody', {}, rows.map(([k, v]) => el('tr', {}, [el('th', {}, [k]), el('td', {}, [v])])))]));
}

function cheatSheet(): HTMLElement {
  const keys: Array<[string, string]> = [
    ['drag', 'zoom to the dragged wavelength range'], ['shift-drag, ← →, shift-wheel', 'pan'], ['+ / −, wheel', 'zoom in / out (wheel: about the pointer)'],
    ['0, Home, double-click', 'reset zoom'], ['n / p, PageDown / PageUp', 'next / previous spectrum'],
    ['e', 'error band on/off'], ['m', 'masked pixels on/off'], ['k', 'sky overlay on/off'], ['a', 'spectrograph arms (DESI b/r/z) as stored, over the combination'], ['r', 'rest / observed frame'], ['y', 'robust y range (1–99 %) / full range of good pixels'],
    ['l', 'all line markers on/off'], ['s', 'smoothing: none → boxcar → gaussian'], ['[ / ]', 'narrower / wider kernel'],
    ['/', 'search the header'], ['?', 'this cheat-sheet'], ['Esc', 'close'],
  ];
  return el('div', { class: 'sv-cheat', hidden: '', role: 'dialog', 'aria-label': 'Keyboard shortcuts' }, [
    el('h2', {}, ['Keyboard shortcuts']),
    el('table', { class: 'sv-table' }, [el('tbody', {}, keys.map(([k, d]) => el('tr', {}, [el('th', {}, [el('kbd', {}, [k])]), el('td', {}, [d])])))]),
    el('vscode-button', { class: 'sv-cheat-close' }, ['Close'], { click: () => toggleCheat(false) }),
  ]);
}

function toggleCheat(show?: boolean): void {
  if (!ui.cheat) {
    if (show === false || !file || errorShown) return;
    ui.cheat = cheatSheet();
    app.appendChild(ui.cheat);
  }
  const visible = show ?? ui.cheat.hidden;
  ui.cheat.hidden = !visible;
}

// ------------------------------------------------------------------------------------------
// Data flow
// ------------------------------------------------------------------------------------------

function onDraw(info: DrawInfo): void {
  lastDraw = info;
  if (ui.status) {
    const dec = info.decimated ? ` · ${info.pixelsInWindow.toLocaleString()} px → ${info.drawnPoints} points (min/max per column)` : ` · ${info.pixelsInWindow.toLocaleString()} px`;
    ui.status.textContent = `${plot?.axisLabel() ?? ''} · ${describeSmoothing(state.smoothing)}${dec}`;
  }
  state.xRange = info.xRange;
  saveState();
  scheduleReport();
}

let reportScheduled = false;
function scheduleReport(): void {
  if (reportScheduled) return;
  reportScheduled = true;
  // Report after the frame is painted, so "rendered" means on screen.
  requestAnimationFrame(() => setTimeout(() => {
    reportScheduled = false;
    if (!firstPaintDone && current && file) {
      firstPaintDone = true;
      milestones.paint = Date.now();
      performance.mark('specvet:paint');
      firstPaintMs = milestones.paint - file.openedAt;
    }
    if (sideWaiting) {
      sideWaiting = false;
      renderSide();
    }
    report();
  }, 0));
}

function requestSpectrum(index: number): void {
  if (!file || index < 0 || index >= file.spectra.length) return;
  if (index === current?.index) {
    // Back to the one on screen: drop any request still in flight.
    if (pendingIndex !== null) { latestRequest = -1; pendingIndex = null; }
    if (ui.picker && ui.picker.value !== String(index)) ui.picker.value = String(index);
    return;
  }
  const requestId = nextRequestId++;
  latestRequest = requestId;
  pendingIndex = index;
  if (ui.picker && ui.picker.value !== String(index)) ui.picker.value = String(index);
  vscode.postMessage({ type: 'getSpectrum', requestId, index });
}

function step(dir: 1 | -1): void {
  if (!file || !file.spectra.length) return;
  const n = file.spectra.length;
  const from = pendingIndex ?? current?.index ?? 0;
  requestSpectrum((from + dir + n) % n);
}

function showSpectrum(s: SpectrumMessage): void {
  if (s.requestId !== undefined && s.requestId !== latestRequest) return; // a newer request superseded it
  // Unrequested (sent with the file): not when another one is on its way, nor again when on screen.
  if (s.requestId === undefined && (pendingIndex !== null || current?.index === s.index)) return;
  if (!file || !plot) return;
  pendingIndex = null;
  const prev = current;
  current = s;
  state.spectrumIndex = s.index;
  if (ui.picker && ui.picker.value !== String(s.index)) ui.picker.value = String(s.index);
  if (ui.banner) {
    ui.banner.hidden = !s.empty;
    ui.banner.textContent = s.empty ? 'Empty fibre: no target was assigned or the fibre has no signal. Shown as stored.' : '';
  }
  // Keep the zoom when switching between spectra covering it (DESI: same grid); else the restored view.
  const n = s.wavelength.length;
  let view: [number, number] | null = null;
  const keep = prev ? plot.currentView : state.xRange;
  if (keep && n && !state.restFrame) {
    const overlaps = keep[1] > s.wavelength[0] && keep[0] < s.wavelength[n - 1];
    if (overlaps) view = keep;
  }
  if (state.restFrame && s.meta.redshift === null) state.restFrame = false;
  plot.setSpectrum(
    { wavelength: s.wavelength, flux: s.flux, ivar: s.ivar, mask: s.mask, sky: s.sky, arms: s.armSpectra ?? [], medium: s.medium, redshift: s.meta.redshift, fluxUnit: s.meta.fluxUnit },
    view,
  );
  const armsToggle = app.querySelector('.sv-toggle-arms') as HTMLElement | null;
  if (armsToggle) armsToggle.hidden = !(s.armSpectra?.length);
  syncControls();
  renderMeta();
  saveState();
}

function runCommand(c: ViewCommand): void {
  switch (c.kind) {
    case 'nextSpectrum': step(1); break;
    case 'previousSpectrum': step(-1); break;
    case 'showSpectrum': requestSpectrum(c.index); break;
    case 'resetZoom': plot?.reset(); break;
    case 'zoomTo': plot?.setView([c.min, c.max]); break;
    case 'zoomIn': plot?.zoomBy(0.5); break;
    case 'zoomOut': plot?.zoomBy(2); break;
    case 'toggleCheatSheet': toggleCheat(); break;
  }
}

/** A tool window (rest frame when the trace says so) shown on the plot in whatever frame it displays. */
function zoomToToolWindow(w: [number, number], f: { restFrame: boolean; redshift: number | null }): void {
  if (!plot || !current) return;
  const toObserved = f.restFrame && f.redshift !== null ? 1 + f.redshift : 1;
  const z = current.meta.redshift;
  const toShown = state.restFrame && z !== null ? 1 / (1 + z) : 1;
  plot.setView([w[0] * toObserved * toShown, w[1] * toObserved * toShown]);
}

/** The plot's zoomed range for a forced zoom (null when it shows the whole spectrum). */
function plotSelection(): { range: [number, number] | null; restFrame: boolean } {
  const restFrame = !!current && state.restFrame && current.meta.redshift !== null;
  if (!plot || !plot.hasData) return { range: null, restFrame };
  const v = plot.currentView;
  const full = plot.fullRange;
  const whole = v[0] <= full[0] + 1e-9 * Math.abs(full[0]) && v[1] >= full[1] - 1e-9 * Math.abs(full[1]);
  return { range: whole ? null : v, restFrame };
}

onHostMessage((msg: HostToWebviewMessage) => {
  try {
    if (msg.type === 'agent.getSelection') {
      vscode.postMessage({ type: 'agent.selection', requestId: msg.requestId, ...plotSelection() });
      return;
    }
    if (traceView?.handle(msg)) return;
    switch (msg.type) {
      case 'fileLoaded':
        // The same read again (the answer to a `ready` racing the first post): already shown.
        if (file && !msg.reloaded && msg.openedAt === file.openedAt && msg.fileName === file.fileName) break;
        milestones.fileLoaded ??= Date.now();
        file = msg;
        current = null;
        pendingIndex = null;
        buildLayout(msg);
        // A reload, or a restored page whose saved spectrum is not the first one (which the host
        // sends unasked; `ready` would have named the saved one).
        if ((msg.reloaded || (!readySent && state.spectrumIndex > 0)) && msg.spectra.length) requestSpectrum(Math.min(state.spectrumIndex, msg.spectra.length - 1));
        if (msg.catalog || !msg.spectra.length) scheduleReport();
        break;
      case 'spectrum':
        milestones.spectrum ??= Date.now();
        showSpectrum(msg);
        milestones.drawn ??= Date.now();
        break;
      case 'error':
        if (msg.requestId !== undefined && file && plot) {
          if (msg.requestId === latestRequest) pendingIndex = null;
          // A single spectrum failed: keep the file open, say so in the banner.
          if (ui.banner) { ui.banner.hidden = false; ui.banner.textContent = `Cannot show this spectrum: ${msg.message}`; }
          report();
        } else showError(msg);
        break;
      case 'viewCommand':
        runCommand(msg.command);
        break;
    }
  } catch (err) {
    vscode.postMessage({ type: 'webviewError', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
  }
});

// ------------------------------------------------------------------------------------------
// Keyboard
// ------------------------------------------------------------------------------------------

function typingInField(e: KeyboardEvent): boolean {
  return e.composedPath().some((t) => t instanceof HTMLElement && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'VSCODE-TEXT-FIELD' || t.isContentEditable));
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape') { toggleCheat(false); return; }
  if (typingInField(e)) return;
  let handled = true;
  switch (e.key) {
    case 'ArrowLeft': plot?.panByFraction(e.shiftKey ? -0.5 : -0.2); break;
    case 'ArrowRight': plot?.panByFraction(e.shiftKey ? 0.5 : 0.2); break;
    case '+': case '=': plot?.zoomBy(0.5); break;
    case '-': case '_': plot?.zoomBy(2); break;
    case '0': case 'Home': plot?.reset(); break;
    case 'n': case 'PageDown': step(1); break;
    case 'p': case 'PageUp': step(-1); break;
    case 'e': state.showErrors = !state.showErrors; optionsChanged(); break;
    case 'm': state.showMasked = !state.showMasked; optionsChanged(); break;
    case 'k': state.showSky = !state.showSky; optionsChanged(); break;
    case 'a': state.showArms = !state.showArms; optionsChanged(); break;
    case 'y': state.robustY = !state.robustY; optionsChanged(); break;
    case 'r':
      if (current?.meta.redshift !== null && current) { state.restFrame = !state.restFrame; optionsChanged(); }
      break;
    case 'l': {
      const anyOn = LINE_GROUPS.some((g) => state.lineGroups[g.id]);
      for (const g of LINE_GROUPS) state.lineGroups[g.id] = anyOn ? false : g.defaultOn;
      optionsChanged();
      break;
    }
    case 's': cycleSmoothing(); break;
    case '[': widen(-1); break;
    case ']': widen(1); break;
    case '?': toggleCheat(); break;
    case '/': {
      state.sideTab = 'header';
      renderSide();
      saveState();
      setTimeout(() => (ui.side?.querySelector('.sv-header-search') as HTMLElement | null)?.focus(), 0);
      break;
    }
    default: handled = false;
  }
  if (handled) e.preventDefault();
});

watchTheme(() => {
  plot?.setColours(plotColours());
  report();
});

window.addEventListener('error', (e) => vscode.postMessage({ type: 'webviewError', message: `${e.message} (${e.filename}:${e.lineno})` }));
// A blocked resource or script would silently break the view: report it like an exception.
document.addEventListener('securitypolicyviolation', (e) =>
  vscode.postMessage({ type: 'webviewError', message: `content security policy blocked ${e.violatedDirective}: ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})` }));
window.addEventListener('unhandledrejection', (e) => vscode.postMessage({ type: 'webviewError', message: String(e.reason) }));

// The host posts the file and its first spectrum as it sets this page, and VS Code hands them over
// at the page's load event. Ask with `ready` when nothing came by then: a page reloaded after being
// hidden, or messages VS Code delivered before this script listened (its load fallback timer).
window.addEventListener('load', () => setTimeout(() => {
  if (file || errorShown) return;
  readySent = true;
  vscode.postMessage({ type: 'ready', spectrumIndex: state.spectrumIndex });
}, 0), { once: true });
