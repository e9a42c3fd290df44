// The trace curation page: the trajectories of a .jsonl trace file as a filterable list, the chosen
// one shown with the shared agent trace view (webview/trace), and keyboard-first curation edits.
// The page never changes a trace itself: it asks the host (curation.edit), which owns the document,
// its undo stack and saving, and then sends the new list and trajectory back.
import './curation/curation.css';
import type {
  AgentTrajectoryMessage,
  CurationCommandMessage,
  CurationDocumentMessage,
  CurationEditSpec,
  CurationFilters,
  CurationTraceMessage,
  CurationTraceSummary,
  CurationViewReport,
  HostToWebviewMessage,
  TrajectoryReport,
} from '../src/shared/protocol';
import { clear, el } from './dom';
import { TraceView } from './trace/traceView';
import { defaultFilters, distinct, matches } from './curation/filters';
import { getVsCodeApi, onHostMessage } from './vscodeApi';

/** What survives hiding and reopening the editor. */
interface ViewState {
  version: 1;
  entry: number | null;
  step: number | null;
  filters: CurationFilters;
}

type Editing =
  | { kind: 'think'; turn: number; block: number; adding: boolean }
  | { kind: 'answer' }
  | { kind: 'note' }
  | { kind: 'zoom'; afterTurn: number; range?: [number, number] };

const vscode = getVsCodeApi<ViewState>();
const restored = vscode.getState();
const state: ViewState = restored?.version === 1 ? { ...restored, filters: { ...defaultFilters(), ...restored.filters } } : { version: 1, entry: null, step: null, filters: defaultFilters() };
const saveState = () => vscode.setState(state);

let doc: CurationDocumentMessage | null = null;
let shown: CurationTraceMessage | null = null;
let traceView: TraceView | null = null;
let editing: Editing | null = null;
let lastError: string | null = null;
let nextRequestId = 1;
const pending = new Map<number, string>();

// ---- Page structure -----------------------------------------------------------------------------

const app = document.getElementById('app')!;
clear(app);
app.className = 'sv-curation';
const titleBar = el('div', { class: 'sv-cur-bar' });
const errorBox = el('div', { class: 'sv-cur-error', role: 'alert', hidden: '' });
const filterBox = el('div', { class: 'sv-cur-filters', role: 'search', 'aria-label': 'Filter trajectories' });
const countLine = el('div', { class: 'sv-cur-count', 'aria-live': 'polite' });
const list = el('ul', { class: 'sv-cur-list', role: 'listbox', tabindex: '0', 'aria-label': 'Trajectories' });
const side = el('aside', { class: 'sv-cur-side' }, [filterBox, countLine, list]);
const head = el('div', { class: 'sv-cur-head' });
const actions = el('div', { class: 'sv-cur-actions', role: 'toolbar', 'aria-label': 'Curation' });
const editor = el('div', { class: 'sv-cur-editor', hidden: '' });
const traceBox = el('div', { class: 'sv-cur-trace' });
const detail = el('section', { class: 'sv-cur-detail', 'aria-label': 'Trajectory' }, [head, actions, editor, traceBox]);
const help = el('div', { class: 'sv-cur-help', hidden: '' }, [
  el('strong', {}, ['Keys: ']),
  'j/k next/previous trajectory · J/K (or ↓/↑ in the trajectory) next/previous step · a approve · r reject · u unreviewed · y/n label YES/NO · c clear label · e edit (or add) the think block · x/Delete delete the step · z force zoom after the step · f final answer · m note · / filter · Ctrl+Enter save the edit · Esc cancel · Ctrl+Z/Ctrl+Y undo/redo · Ctrl+S save · ? this help',
]);
const main = el('div', { class: 'sv-cur-main' }, [side, detail]);
app.append(titleBar, errorBox, main, help);

// Filters: built once; options refreshed from the document.
const selects: Record<'verdict' | 'label' | 'status' | 'guide' | 'curation', HTMLSelectElement> = {
  verdict: select('verdict', 'Verdict', [['any', 'any verdict'], ['YES', 'YES'], ['NO', 'NO'], ['none', 'no answer']]),
  label: select('label', 'Label', [['any', 'any label'], ['YES', 'label YES'], ['NO', 'label NO'], ['none', 'unlabelled'], ['disagrees', 'label ≠ verdict']]),
  status: select('status', 'Status', [['any', 'any status']]),
  guide: select('guide', 'Guide', [['any', 'any guide']]),
  curation: select('curation', 'Curation', [['any', 'any state'], ['unreviewed', 'unreviewed'], ['approved', 'approved'], ['rejected', 'rejected']]),
};
const textFilter = el('input', { type: 'search', class: 'sv-cur-text', placeholder: 'Search id, spectrum, note… (/)', 'aria-label': 'Search' }) as HTMLInputElement;
textFilter.value = state.filters.text;
textFilter.addEventListener('input', () => {
  state.filters.text = textFilter.value;
  filtersChanged();
});
filterBox.append(...Object.values(selects), textFilter);

function select(key: keyof typeof selects, label: string, options: Array<[string, string]>): HTMLSelectElement {
  const s = el('select', { class: `sv-cur-filter sv-cur-filter-${key}`, 'aria-label': label, title: label }) as HTMLSelectElement;
  setOptions(s, options, state.filters[key]);
  s.addEventListener('change', () => {
    (state.filters as unknown as Record<string, string>)[key] = s.value;
    filtersChanged();
  });
  return s;
}

function setOptions(s: HTMLSelectElement, options: Array<[string, string]>, value: string): void {
  clear(s);
  for (const [v, text] of options) s.append(el('option', { value: v }, [text]));
  s.value = options.some(([v]) => v === value) ? value : 'any';
}

// ---- List -----------------------------------------------------------------------------------------

function visible(): CurationTraceSummary[] {
  return doc ? doc.traces.filter((t) => matches(t, state.filters)) : [];
}

function filtersChanged(): void {
  saveState();
  renderList();
  const v = visible();
  if (v.length && !v.some((t) => t.entry === state.entry)) choose(v[0].entry);
  scheduleReport();
}

function verdictBadge(v: 'YES' | 'NO' | null, cls = ''): HTMLElement {
  return el('span', { class: `sv-cur-badge ${v === 'YES' ? 'sv-cur-yes' : v === 'NO' ? 'sv-cur-no' : 'sv-cur-none'} ${cls}` }, [v ?? '—']);
}

function renderList(): void {
  clear(list);
  if (!doc) return;
  const v = visible();
  countLine.textContent = `${v.length} of ${doc.traces.length} trajector${doc.traces.length === 1 ? 'y' : 'ies'}` +
    ` · ${doc.traces.filter((t) => t.curation === 'approved').length} approved · ${doc.traces.filter((t) => t.curation === 'rejected').length} rejected`;
  for (const t of v) {
    const row = el('li', {
      class: `sv-cur-row sv-cur-${t.curation}${t.modified ? ' sv-cur-modified' : ''}`,
      role: 'option',
      'data-entry': String(t.entry),
      'aria-selected': t.entry === state.entry ? 'true' : 'false',
      title: `${t.id} · line ${t.line}${t.note ? ` · ${t.note}` : ''}`,
    }, [
      el('span', { class: 'sv-cur-mark', 'aria-label': t.curation }, [t.curation === 'approved' ? '✓' : t.curation === 'rejected' ? '✗' : '·']),
      el('span', { class: 'sv-cur-row-main' }, [
        el('span', { class: 'sv-cur-row-title' }, [t.spectrumId]),
        el('span', { class: 'sv-cur-row-sub' }, [`${t.guideId} v${t.guideVersion} · ${t.status} · ${t.turns} turn${t.turns === 1 ? '' : 's'} · line ${t.line}${t.modified ? ' · edited' : ''}`]),
      ]),
      verdictBadge(t.verdict),
      t.label ? el('span', { class: `sv-cur-label${t.label !== t.verdict ? ' sv-cur-disagree' : ''}`, title: 'ground-truth label' }, [`label ${t.label}`]) : null,
    ], { click: () => choose(t.entry) });
    list.append(row);
  }
  list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
}

function choose(entry: number): void {
  if (state.entry !== entry) {
    state.entry = entry;
    state.step = null;
    editing = null;
  }
  saveState();
  for (const r of Array.from(list.querySelectorAll('.sv-cur-row'))) r.setAttribute('aria-selected', (r as HTMLElement).dataset.entry === String(entry) ? 'true' : 'false');
  list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  if (shown?.entry !== entry) {
    const requestId = nextRequestId++;
    pending.set(requestId, 'open');
    vscode.postMessage({ type: 'curation.getTrace', requestId, entry });
  }
  scheduleReport();
}

function move(delta: number): void {
  const v = visible();
  if (!v.length) return;
  const i = v.findIndex((t) => t.entry === state.entry);
  const next = v[Math.max(0, Math.min(v.length - 1, i < 0 ? 0 : i + delta))];
  choose(next.entry);
}

// ---- Title bar, empty and foreign files -----------------------------------------------------------

function renderTitle(): void {
  clear(titleBar);
  if (!doc) return;
  titleBar.append(el('span', { class: 'sv-cur-file' }, [doc.fileName]));
  if (doc.dirty) titleBar.append(el('span', { class: 'sv-cur-dirty', title: 'unsaved changes (Ctrl+S saves, Ctrl+Z undoes)' }, ['● unsaved']));
  titleBar.append(el('button', { class: 'sv-cur-btn sv-cur-help-btn', type: 'button', title: 'Keyboard shortcuts (?)' }, ['? Keys'], { click: () => toggleHelp() }));
  if (doc.damaged.length) {
    titleBar.append(el('div', { class: 'sv-cur-damaged', role: 'note' }, [
      `${doc.damaged.length} damaged line${doc.damaged.length === 1 ? '' : 's'} kept as ${doc.damaged.length === 1 ? 'it is' : 'they are'} on save: `,
      doc.damaged.map((d) => `line ${d.line} (${d.reason})`).join('; '),
    ]));
  }
}

function renderForeign(): void {
  clear(main);
  if (!doc) return;
  if (doc.kind === 'empty') {
    main.append(el('div', { class: 'sv-cur-message' }, [
      el('h2', {}, ['No trajectories yet']),
      el('p', {}, ['This trace file is empty. Traces are appended by ', el('code', {}, ['specvet vet … --out FILE']), ' and by Save trace in the spectrum editor.']),
    ]));
    return;
  }
  main.append(el('div', { class: 'sv-cur-message sv-cur-foreign' }, [
    el('h2', {}, ['Not a SpecVet trace file']),
    el('p', {}, [doc.reason ?? 'No line of this file is a SpecVet trace.']),
    el('button', { class: 'sv-cur-btn sv-cur-primary sv-cur-reopen', type: 'button' }, ['Reopen as Text'], { click: () => vscode.postMessage({ type: 'curation.reopenAsText' }) }),
  ]));
}

// ---- The shown trajectory -------------------------------------------------------------------------

function traceKey(t: CurationTraceMessage): string {
  return `${t.entry}:${t.traceId}`;
}

function summaryOf(entry: number | null): CurationTraceSummary | undefined {
  return doc?.traces.find((t) => t.entry === entry);
}

function renderDetail(keepScroll: boolean): void {
  clear(head);
  clear(actions);
  const t = shown;
  const s = summaryOf(t?.entry ?? null);
  if (!t || !s) {
    clear(traceBox);
    traceView = null;
    head.append(el('div', { class: 'sv-cur-placeholder' }, [doc?.traces.length ? 'No trajectory matches the filters.' : '']));
    return;
  }
  head.append(
    el('div', { class: 'sv-cur-head-row' }, [
      el('span', { class: 'sv-cur-head-title' }, [`${s.spectrumId}`]),
      verdictBadge(s.verdict, 'sv-cur-verdict'),
      el('span', { class: `sv-cur-format ${s.formatOk ? 'sv-cur-ok' : 'sv-cur-bad'}` }, [s.formatOk ? 'format ✓' : 'format ✗']),
      el('span', { class: 'sv-cur-status' }, [s.status]),
      el('span', { class: `sv-cur-state sv-cur-state-${s.curation}` }, [s.curation]),
      el('span', { class: `sv-cur-label-state${s.label && s.label !== s.verdict ? ' sv-cur-disagree' : ''}` }, [s.label ? `label ${s.label}` : 'unlabelled']),
    ]),
    el('div', { class: 'sv-cur-head-sub' }, [`${s.file} · ${s.survey} · guide ${s.guideId} v${s.guideVersion} · ${s.model} (${s.protocol}) · line ${s.line} · ${s.id}`]),
    ...(s.note ? [el('div', { class: 'sv-cur-note' }, ['Note: ', s.note])] : []),
    el('div', { class: `sv-cur-export ${t.exportSkip ? 'sv-cur-bad' : 'sv-cur-ok'}` }, [t.exportSkip ? `Not exported for fine-tuning: ${t.exportSkip}` : 'Ready for fine-tuning export (approved, well-formed final answer).']),
  );
  const btn = (cls: string, text: string, title: string, fn: () => void, on = true) =>
    el('button', { class: `sv-cur-btn ${cls}`, type: 'button', title, disabled: on ? null : '' }, [text], { click: fn });
  actions.append(
    btn('sv-cur-approve', '✓ Approve', 'Approve as training data (a)', () => edit({ op: 'setCuration', status: 'approved' }), s.curation !== 'approved'),
    btn('sv-cur-reject', '✗ Reject', 'Reject: never exported (r)', () => edit({ op: 'setCuration', status: 'rejected' }), s.curation !== 'rejected'),
    btn('sv-cur-unreview', 'Unreviewed', 'Back to unreviewed (u)', () => edit({ op: 'setCuration', status: 'unreviewed' }), s.curation !== 'unreviewed'),
    el('span', { class: 'sv-cur-sep' }),
    btn('sv-cur-label-yes', 'Label YES', 'Ground truth: YES (y)', () => edit({ op: 'setLabel', verdict: 'YES' }), s.label !== 'YES'),
    btn('sv-cur-label-no', 'Label NO', 'Ground truth: NO (n)', () => edit({ op: 'setLabel', verdict: 'NO' }), s.label !== 'NO'),
    btn('sv-cur-label-clear', 'Clear label', 'Remove the label (c)', () => edit({ op: 'setLabel', verdict: null }), s.label !== null),
    el('span', { class: 'sv-cur-sep' }),
    btn('sv-cur-answer', 'Final answer…', 'Write or change the final answer (f)', () => openEditor({ kind: 'answer' })),
    btn('sv-cur-zoom', 'Force zoom…', 'Insert a zoom the model sees (z)', () => openEditor({ kind: 'zoom', afterTurn: defaultZoomTurn() })),
    btn('sv-cur-note-btn', 'Note…', 'The curator\'s note (m)', () => openEditor({ kind: 'note' })),
  );

  // The trajectory, shown by the shared trace view (one per shown trajectory: no stale tabs).
  const scroller = traceBox.querySelector('.sv-trace-body') as HTMLElement | null;
  const scrollTop = keepScroll && scroller ? scroller.scrollTop : 0;
  clear(traceBox);
  const container = el('div', { class: 'sv-cur-traceview' });
  traceBox.append(container);
  // A chip or image click (the vetting editor zooms its plot there) starts a forced zoom on that window.
  traceView = new TraceView(container, { post: (m) => vscode.postMessage(m), zoomTo: (w) => openEditor({ kind: 'zoom', afterTurn: defaultZoomTurn(), range: w }) });
  const show: AgentTrajectoryMessage = { type: 'agent.trajectory', info: { ...t.info, id: traceKey(t) }, events: t.events, select: true };
  traceView.handle(show);
  decorateSteps(t);
  const body = traceBox.querySelector('.sv-trace-body') as HTMLElement | null;
  if (body) body.scrollTop = scrollTop;
}

/** Adds selection and edit controls to the trace view's items: one item per step, in step order. */
function decorateSteps(t: CurationTraceMessage): void {
  const items = Array.from(traceBox.querySelectorAll('.sv-trace-items > li')) as HTMLElement[];
  if (items.length !== t.steps.length) {
    reportError(`the trace view shows ${items.length} items for ${t.steps.length} steps; step editing is off for this trajectory`);
    return;
  }
  items.forEach((li, i) => {
    const step = t.steps[i];
    li.dataset.step = String(i);
    li.classList.add('sv-cur-step');
    li.tabIndex = -1;
    li.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('button, a, img')) return;
      selectStep(i);
    });
    const tools = el('span', { class: 'sv-cur-step-tools' });
    const tool = (cls: string, text: string, title: string, fn: () => void) =>
      tools.append(el('button', { class: `sv-cur-step-btn ${cls}`, type: 'button', title }, [text], { click: (e) => { e.stopPropagation(); selectStep(i); fn(); } }));
    if (step.kind === 'think') tool('sv-cur-edit-think', '✎ Edit', 'Rewrite this think block (e)', () => editThink(i));
    if (step.kind === 'tool_call' && t.turnsWithoutThink.includes(step.turn)) tool('sv-cur-add-think', '✎ Add think', 'Add the reasoning for this turn (e)', () => editThink(i));
    if (step.kind === 'answer') tool('sv-cur-edit-answer', '✎ Edit', 'Change the final answer (f)', () => openEditor({ kind: 'answer' }));
    if (canZoomAfter(step.turn)) tool('sv-cur-zoom-after', '+ Zoom after', `Insert a forced zoom after turn ${step.turn} (z)`, () => openEditor({ kind: 'zoom', afterTurn: step.turn }));
    tool('sv-cur-delete', '✕ Delete', deleteTitle(step.kind), () => deleteStep(i));
    li.prepend(tools);
  });
  applyStepSelection();
}

function deleteTitle(kind: string): string {
  switch (kind) {
    case 'think': return 'Delete this think block (x)';
    case 'tool_call':
    case 'tool_result': return 'Delete this tool call with its result (the whole turn) (x)';
    case 'forced_zoom': return 'Delete this forced zoom (x)';
    case 'answer': return 'Delete the final answer turn (x)';
    default: return 'Delete this note of an error (the model never saw it) (x)';
  }
}

function canZoomAfter(turn: number): boolean {
  return !!shown && (shown.finalTurn === null || turn < shown.finalTurn);
}

function defaultZoomTurn(): number {
  const t = shown!;
  const stepTurn = state.step !== null ? t.steps[state.step]?.turn : undefined;
  if (stepTurn !== undefined && canZoomAfter(stepTurn)) return stepTurn;
  return t.finalTurn !== null ? Math.max(0, t.finalTurn - 1) : t.turns;
}

function selectStep(i: number | null): void {
  state.step = i;
  saveState();
  applyStepSelection();
  scheduleReport();
}

function applyStepSelection(): void {
  for (const li of Array.from(traceBox.querySelectorAll('.sv-cur-step'))) {
    const on = (li as HTMLElement).dataset.step === String(state.step);
    li.classList.toggle('sv-cur-step-selected', on);
    if (on) (li as HTMLElement).scrollIntoView({ block: 'nearest' });
  }
}

function moveStep(delta: number): void {
  if (!shown?.steps.length) return;
  const n = shown.steps.length;
  selectStep(state.step === null ? (delta > 0 ? 0 : n - 1) : Math.max(0, Math.min(n - 1, state.step + delta)));
}

// ---- Editing --------------------------------------------------------------------------------------

/** Asks the host for an edit; returns its request id (the editor closes only when its own edit succeeds). */
function edit(spec: CurationEditSpec): number | null {
  if (!shown) return null;
  const requestId = nextRequestId++;
  pending.set(requestId, spec.op);
  vscode.postMessage({ type: 'curation.edit', requestId, entry: shown.entry, traceId: shown.traceId, edit: spec });
  return requestId;
}

/** The request the open editor is waiting for. */
let editorRequest: number | null = null;

function editThink(stepIndex: number): void {
  const t = shown!;
  const step = t.steps[stepIndex];
  if (step.kind === 'think' && step.block !== null) openEditor({ kind: 'think', turn: step.turn, block: step.block, adding: false });
  else if (t.turnsWithoutThink.includes(step.turn)) openEditor({ kind: 'think', turn: step.turn, block: 0, adding: true });
  else {
    // Another step of a turn: edit that turn's first think block.
    const think = t.steps.find((s) => s.kind === 'think' && s.turn === step.turn);
    if (think) openEditor({ kind: 'think', turn: step.turn, block: think.block ?? 0, adding: false });
  }
}

function deleteStep(i: number): void {
  edit({ op: 'deleteStep', step: i });
}

function openEditor(e: Editing): void {
  if (!shown) return;
  editing = e;
  editorRequest = null;
  renderEditor();
  scheduleReport();
}

function closeEditor(): void {
  editing = null;
  renderEditor();
  scheduleReport();
}

function editingLabel(e: Editing | null): string | null {
  if (!e) return null;
  if (e.kind === 'think') return `think ${e.turn}.${e.block}`;
  return e.kind;
}

function renderEditor(): void {
  clear(editor);
  const e = editing;
  const t = shown;
  if (!e || !t) {
    editor.hidden = true;
    return;
  }
  editor.hidden = false;
  const s = summaryOf(t.entry);
  const area = el('textarea', { class: 'sv-cur-textarea', rows: '8', spellcheck: 'true' }) as HTMLTextAreaElement;
  const buttons = el('div', { class: 'sv-cur-editor-buttons' });
  let title = '';
  let commit: () => void = () => undefined;
  if (e.kind === 'think') {
    const step = t.steps.find((x) => x.kind === 'think' && x.turn === e.turn && x.block === e.block);
    title = e.adding ? `Add the think block of turn ${e.turn}` : `Rewrite think block ${e.block + 1} of turn ${e.turn}`;
    area.value = step?.text ?? '';
    area.placeholder = 'What the model should have reasoned before this step (plain text or Markdown; no tags).';
    commit = () => { editorRequest = edit({ op: 'setThink', turn: e.turn, block: e.block, text: area.value }); };
  } else if (e.kind === 'answer') {
    title = t.finalText !== null ? `Change the final answer (turn ${t.finalTurn})` : `Write the final answer (a new turn ${t.turns + 1})`;
    area.value = t.finalText ?? `<think>\n\n</think>\n<answer>\nBased on the features examined, the answer is \\boxed{${s?.label ?? 'YES'}}.\n</answer>`;
    area.rows = 10;
    const setBox = (v: 'YES' | 'NO') => {
      area.value = /\\boxed\{[^}]*\}/.test(area.value) ? area.value.replace(/\\boxed\{[^}]*\}/g, `\\boxed{${v}}`) : `${area.value}\n<answer>\\boxed{${v}}</answer>`;
      area.focus();
    };
    buttons.append(
      el('button', { class: 'sv-cur-btn sv-cur-box-yes', type: 'button' }, ['\\boxed{YES}'], { click: () => setBox('YES') }),
      el('button', { class: 'sv-cur-btn sv-cur-box-no', type: 'button' }, ['\\boxed{NO}'], { click: () => setBox('NO') }),
    );
    commit = () => { editorRequest = edit({ op: 'setFinalAnswer', text: area.value }); };
  } else if (e.kind === 'note') {
    title = 'The curator\'s note (empty removes it)';
    area.value = s?.note ?? '';
    area.rows = 3;
    commit = () => { editorRequest = edit({ op: 'setNote', note: area.value }); };
  } else {
    title = 'Insert a forced zoom: the model sees this image as a user turn, as if a person had asked for it';
    const range = el('input', { class: 'sv-cur-range', type: 'text', placeholder: '6500-6600', 'aria-label': 'Wavelength range in Å' }) as HTMLInputElement;
    if (e.range) range.value = `${e.range[0]}-${e.range[1]}`;
    const label = el('input', { class: 'sv-cur-zoom-label', type: 'text', placeholder: 'label, e.g. Hα region (optional)', 'aria-label': 'Label' }) as HTMLInputElement;
    const after = el('select', { class: 'sv-cur-after', 'aria-label': 'After turn' }) as HTMLSelectElement;
    const last = t.finalTurn !== null ? t.finalTurn - 1 : t.turns;
    for (let k = 0; k <= last; k++) after.append(el('option', { value: String(k) }, [k === 0 ? 'before the first turn' : `after turn ${k}`]));
    after.value = String(Math.min(e.afterTurn, last));
    const frame = t.info.restFrame && t.info.redshift !== null ? `rest frame (z = ${t.info.redshift.toFixed(4)})` : 'observed frame';
    editor.append(
      el('div', { class: 'sv-cur-editor-title' }, [title]),
      el('div', { class: 'sv-cur-zoom-form' }, [range, label, after, el('span', { class: 'sv-cur-hint' }, [`Å, ${frame}, as the model's tool reads it`])]),
      buttons,
    );
    commit = () => {
      const m = /^\s*(-?\d+(?:\.\d*)?)\s*(?:-|–|,|\s)\s*(-?\d+(?:\.\d*)?)\s*$/.exec(range.value);
      if (!m || !(Number(m[1]) < Number(m[2]))) {
        reportError(`"${range.value}" is not a wavelength range like 6500-6600`);
        range.focus();
        return;
      }
      editorRequest = edit({ op: 'forceZoom', afterTurn: Number(after.value), range: [Number(m[1]), Number(m[2])], ...(label.value.trim() ? { label: label.value.trim() } : {}) });
    };
    addCommitButtons(buttons, () => commit());
    for (const input of [range, label]) input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); commit(); } });
    range.focus();
    editorCommit = commit;
    return;
  }
  editor.append(el('div', { class: 'sv-cur-editor-title' }, [title]), area, buttons);
  addCommitButtons(buttons, () => commit());
  editorCommit = commit;
  area.focus();
}

let editorCommit: (() => void) | null = null;

function addCommitButtons(box: HTMLElement, commit: () => void): void {
  box.append(
    el('button', { class: 'sv-cur-btn sv-cur-primary sv-cur-save-edit', type: 'button', title: 'Ctrl+Enter' }, ['Apply'], { click: commit }),
    el('button', { class: 'sv-cur-btn sv-cur-cancel-edit', type: 'button', title: 'Esc' }, ['Cancel'], { click: closeEditor }),
  );
}

function reportError(message: string | null): void {
  lastError = message;
  clear(errorBox);
  errorBox.hidden = !message;
  if (message) errorBox.append(el('span', {}, [message]), el('button', { class: 'sv-cur-btn sv-cur-dismiss', type: 'button', title: 'Dismiss' }, ['×'], { click: () => reportError(null) }));
  scheduleReport();
}

function toggleHelp(on?: boolean): void {
  help.hidden = on === undefined ? !help.hidden : !on;
}

// ---- Host messages --------------------------------------------------------------------------------

onHostMessage((msg: HostToWebviewMessage) => {
  try {
    switch (msg.type) {
      case 'curation.document':
        onDocument(msg);
        break;
      case 'curation.trace':
        onTrace(msg);
        break;
      case 'curation.editResult': {
        const what = pending.get(msg.requestId);
        pending.delete(msg.requestId);
        if (!msg.ok) reportError(`${what === 'open' ? 'Cannot show the trajectory' : `The ${what ?? 'edit'} was not applied`}: ${msg.error ?? 'unknown error'}`);
        else {
          reportError(null);
          if (editing && msg.requestId === editorRequest) closeEditor();
        }
        break;
      }
      case 'curation.command':
        onCommand(msg.command);
        break;
      default:
        break;
    }
  } catch (err) {
    vscode.postMessage({ type: 'webviewError', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
  }
});

function onDocument(msg: CurationDocumentMessage): void {
  const wasForeign = doc !== null && doc.kind !== 'traces';
  const before = visible().map((t) => t.entry);
  doc = msg;
  if (msg.kind !== 'traces') {
    renderTitle();
    renderForeign();
    scheduleReport();
    return;
  }
  if (wasForeign) {
    clear(main);
    main.append(side, detail);
  }
  setOptions(selects.status, [['any', 'any status'], ...distinct(msg.traces, 'status').map((s): [string, string] => [s, s])], state.filters.status);
  setOptions(selects.guide, [['any', 'any guide'], ...distinct(msg.traces, 'guideId').map((g): [string, string] => [g, g])], state.filters.guide);
  for (const k of Object.keys(selects) as Array<keyof typeof selects>) (state.filters as unknown as Record<string, string>)[k] = selects[k].value;
  renderTitle();
  renderList();
  const v = visible();
  const at = state.entry === null ? -1 : before.indexOf(state.entry);
  if (state.entry === null || !msg.traces.some((t) => t.entry === state.entry)) {
    if (v.length) choose(v[0].entry);
  } else if (at >= 0 && v.length && !v.some((t) => t.entry === state.entry)) {
    // The edit took the trajectory out of the filter (approving under "unreviewed"): go on with the next one.
    choose(v[Math.min(at, v.length - 1)].entry);
  } else if (shown && shown.entry === state.entry) renderDetail(true); // header badges follow the list
  scheduleReport();
}

function onTrace(msg: CurationTraceMessage): void {
  if (msg.requestId !== undefined) pending.delete(msg.requestId);
  if (msg.entry !== state.entry) return; // an update of a trajectory not shown
  const same = shown?.entry === msg.entry;
  shown = msg;
  if (state.step !== null && state.step >= msg.steps.length) state.step = msg.steps.length ? msg.steps.length - 1 : null;
  renderDetail(same);
  // An open editor keeps what is being typed; it closes only when another trajectory is shown.
  if (!same && editing) {
    editing = null;
    renderEditor();
  }
  scheduleReport();
}

function onCommand(command: CurationCommandMessage['command']): void {
  switch (command) {
    case 'next': move(1); break;
    case 'previous': move(-1); break;
    case 'approve': edit({ op: 'setCuration', status: 'approved' }); break;
    case 'reject': edit({ op: 'setCuration', status: 'rejected' }); break;
    case 'focusFilter': textFilter.focus(); break;
  }
}

// ---- Keyboard -------------------------------------------------------------------------------------

function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
}

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    if (editing) closeEditor();
    else if (!help.hidden) toggleHelp(false);
    else if (typing(e)) (e.target as HTMLElement).blur();
    return;
  }
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && editing && editorCommit) {
    e.preventDefault();
    editorCommit();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
  if (doc?.kind !== 'traces') return;
  const step = state.step !== null ? shown?.steps[state.step] : undefined;
  let handled = true;
  switch (e.key) {
    case 'j': move(1); break;
    case 'k': move(-1); break;
    case 'J': moveStep(1); break;
    case 'K': moveStep(-1); break;
    case 'ArrowDown': if ((e.target as HTMLElement).closest?.('.sv-cur-list')) move(1); else moveStep(1); break;
    case 'ArrowUp': if ((e.target as HTMLElement).closest?.('.sv-cur-list')) move(-1); else moveStep(-1); break;
    case 'a': edit({ op: 'setCuration', status: 'approved' }); break;
    case 'r': edit({ op: 'setCuration', status: 'rejected' }); break;
    case 'u': edit({ op: 'setCuration', status: 'unreviewed' }); break;
    case 'y': edit({ op: 'setLabel', verdict: 'YES' }); break;
    case 'n': edit({ op: 'setLabel', verdict: 'NO' }); break;
    case 'c': edit({ op: 'setLabel', verdict: null }); break;
    case 'e':
      if (state.step !== null) editThink(state.step);
      else {
        const first = shown?.steps.findIndex((s) => s.kind === 'think') ?? -1;
        if (first >= 0) editThink(first);
      }
      break;
    case 'x': case 'Delete': if (state.step !== null) deleteStep(state.step); break;
    case 'z': if (shown) openEditor({ kind: 'zoom', afterTurn: step && canZoomAfter(step.turn) ? step.turn : defaultZoomTurn() }); break;
    case 'f': openEditor({ kind: 'answer' }); break;
    case 'm': openEditor({ kind: 'note' }); break;
    case '/': textFilter.focus(); break;
    case '?': toggleHelp(); break;
    default: handled = false;
  }
  if (handled) e.preventDefault();
});

// ---- Report ---------------------------------------------------------------------------------------

let reportPending = false;
function scheduleReport(): void {
  if (reportPending) return;
  reportPending = true;
  // After the frame is painted (and after the trace view's own report): "reported" means on screen.
  requestAnimationFrame(() => setTimeout(() => {
    reportPending = false;
    const key = shown ? traceKey(shown) : null;
    const trace: TrajectoryReport | null = (key && traceView?.report().trajectories.find((x) => x.id === key)) || null;
    const report: CurationViewReport = {
      kind: doc ? doc.kind : 'loading',
      fileName: doc?.fileName ?? '',
      total: doc?.traces.length ?? 0,
      visible: visible().map((t) => t.entry),
      selected: state.entry,
      shownTraceId: shown?.traceId ?? null,
      selectedStep: state.step,
      filters: { ...state.filters },
      dirty: doc?.dirty ?? false,
      editing: editingLabel(editing),
      error: lastError,
      damagedLines: doc?.damaged.map((d) => d.line) ?? [],
      trace,
    };
    (window as unknown as { __specvetCurationReport?: CurationViewReport }).__specvetCurationReport = report;
    vscode.postMessage({ type: 'curation.report', report });
  }, 30));
}

window.addEventListener('error', (e) => vscode.postMessage({ type: 'webviewError', message: `${e.message} (${e.filename}:${e.lineno})` }));
vscode.postMessage({ type: 'curation.ready', entry: state.entry });
