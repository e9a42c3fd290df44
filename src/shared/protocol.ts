// The one typed message protocol between the extension host and its webviews.
// Imported by both sides; it must stay free of Node and vscode imports.
// Pattern (after microsoft/vscode-hexeditor shared/protocol.ts): one interface per message with a
// line of doc; requests carry a `requestId` and get exactly one typed reply.
//
// Numeric arrays travel as typed arrays (Float64Array, Float32Array, Int32Array), never as JSON
// numbers: VS Code's webview.postMessage transfers ArrayBuffers and ArrayBufferViews as binary and
// rebuilds the same typed-array class on the webview side.
//
// The spectrum model types are imported as types only (erased at build time), so the webview
// bundle never pulls core code while both sides agree on one definition of a spectrum.
import type {
  CatalogRow,
  HduListing,
  SpectrumFormat,
  SpectrumMeta,
  SpectrumSummary,
  SurveyName,
  WavelengthMedium,
} from '../core/spectrum/model';

export type { CatalogRow, HduListing, SpectrumFormat, SpectrumMeta, SpectrumSummary, SurveyName, WavelengthMedium };

/** Every message either side posts carries a discriminating `type`. */
export interface MessageBase {
  type: string;
}

/** A request expecting exactly one reply carrying the same `requestId`. */
export interface RequestBase extends MessageBase {
  requestId: number;
}

// ---------------------------------------------------------------------------------------------
// Host → webview
// ---------------------------------------------------------------------------------------------

/** What the host knows about the opened file: its layout and the cheap list of spectra. */
export interface FileLoadedMessage extends MessageBase {
  type: 'fileLoaded';
  fileName: string;
  format: SpectrumFormat;
  survey: SurveyName;
  hdus: HduListing[];
  /** Primary header cards [keyword, value, comment]. */
  primaryHeader: Array<[string, string, string]>;
  spectra: SpectrumSummary[];
  /** Redshift catalogue rows (DESI redrock files); null for spectrum files. */
  catalog: CatalogRow[] | null;
  /** Host clock (ms since epoch) when the editor started opening: the first-paint measurement's origin. */
  openedAt: number;
  /** Host milestones in ms after `openedAt` (file parsed, webview HTML set, webview ready), for the first-paint breakdown. */
  hostPhases?: Record<string, number>;
  /** The file changed on disk and was read again: the webview keeps its view and asks for its spectrum. */
  reloaded?: boolean;
}

/** One spectrum, arrays as typed arrays. Also the reply to {@link GetSpectrumRequest}. */
export interface SpectrumMessage extends MessageBase {
  type: 'spectrum';
  /** Set when answering a {@link GetSpectrumRequest}. */
  requestId?: number;
  index: number;
  meta: SpectrumMeta;
  medium: WavelengthMedium;
  empty: boolean;
  wavelength: Float64Array;
  flux: Float32Array;
  ivar: Float32Array | null;
  mask: Int32Array | null;
  sky: Float32Array | null;
  /** Names of the arms the combined spectrum was built from (DESI b/r/z); empty otherwise. */
  arms: string[];
  /** The arms as stored, for checking features at the arm joins (same order as `arms`). */
  armSpectra: ArmSpectrum[];
}

/** One spectrograph arm of a multi-arm spectrum, typed arrays as in {@link SpectrumMessage}. */
export interface ArmSpectrum {
  name: string;
  wavelength: Float64Array;
  flux: Float32Array;
  ivar: Float32Array | null;
  mask: Int32Array | null;
}

/** The file (or one spectrum of it) could not be shown: what and where, from the SpecVetError. */
export interface ErrorMessage extends MessageBase {
  type: 'error';
  /** Set when the error answers a request. */
  requestId?: number;
  /** SpecVetError code, or 'internal' for anything else. */
  code: string;
  message: string;
  where: string | null;
  fileName: string;
  /** The HDU listing when the file is valid FITS but not a known spectrum format. */
  hdus: HduListing[] | null;
}

/** An action the user triggered on the host side (command palette, keybinding). */
export interface ViewCommandMessage extends MessageBase {
  type: 'viewCommand';
  command: ViewCommand;
}

/** View actions shared by host commands and webview keyboard shortcuts. */
export type ViewCommand =
  | { kind: 'nextSpectrum' }
  | { kind: 'previousSpectrum' }
  | { kind: 'showSpectrum'; index: number }
  | { kind: 'resetZoom' }
  | { kind: 'zoomTo'; min: number; max: number }
  | { kind: 'zoomIn' }
  | { kind: 'zoomOut' }
  | { kind: 'toggleCheatSheet' };

export type HostToWebviewMessage = FileLoadedMessage | SpectrumMessage | ErrorMessage | ViewCommandMessage | AgentHostToWebviewMessage | CurationHostToWebviewMessage;

// ---------------------------------------------------------------------------------------------
// Webview → host
// ---------------------------------------------------------------------------------------------

/** The webview script is running; `spectrumIndex` is the one its restored view state shows. */
export interface ReadyMessage extends MessageBase {
  type: 'ready';
  spectrumIndex: number;
}

/** Ask for spectrum `index`; answered by a {@link SpectrumMessage} or {@link ErrorMessage} with the same requestId. */
export interface GetSpectrumRequest extends RequestBase {
  type: 'getSpectrum';
  index: number;
}

/** What the webview now shows, posted after every settled draw: for the status UI and tests. */
export interface RenderedMessage extends MessageBase {
  type: 'rendered';
  report: RenderReport;
}

export interface RenderReport {
  /** Random per webview instance: tells a recreated webview (after hide/reopen) from the old one. */
  webviewId: string;
  view: 'plot' | 'catalog' | 'error' | 'empty';
  fileName: string;
  title: string;
  spectrumIndex: number;
  spectrumCount: number;
  /** Pixels in the spectrum and points handed to the plot after decimation. */
  nPoints: number;
  drawnPoints: number;
  /** ms from the view change to the end of the canvas draw (decimation + uPlot), for the redraw benchmark. */
  drawMs: number;
  xRange: [number, number] | null;
  yRange: [number, number] | null;
  /** Wavelength convention stated on the plot, e.g. "vacuum, observed frame". */
  axisLabel: string;
  smoothing: string;
  /** Constructor names of the arrays as they arrived (proves binary transfer, not JSON). */
  arrayTypes: Record<string, string>;
  /** ms from the host's `openedAt` to the first paint of this editor (set on the first plot only). */
  firstPaintMs: number | null;
  /** Milestones of the first paint in ms after `openedAt`: host phases plus script start, messages, paint. */
  phases: Record<string, number>;
  errorText: string | null;
  catalogRows: number;
  theme: 'light' | 'dark' | 'high-contrast';
}

/** An unexpected exception inside the webview, reported so the host can log it. */
export interface WebviewErrorMessage extends MessageBase {
  type: 'webviewError';
  message: string;
}

export type WebviewToHostMessage = ReadyMessage | GetSpectrumRequest | RenderedMessage | WebviewErrorMessage | AgentWebviewToHostMessage | CurationWebviewToHostMessage;

// =============================================================================================
// Agent trace view (issue 5): host ↔ trace panel inside the FITS editor (and, later, the curation
// editor). The host turns the core loop's AgentEvents (or a saved trace's steps) into
// TraceViewEvents; the webview only ever renders these. Model text is untrusted: the panel renders
// it as sanitised Markdown, never as HTML.
// =============================================================================================

/** One thing the trace panel shows, in order. Images are the exact PNG bytes the model received. */
export type TraceViewEvent =
  /** A model request for assistant turn `turn` started (streamed text follows). */
  | { kind: 'turn_started'; turn: number }
  /** Streamed text of the current turn as it arrives (raw: think tags, tool-call text and all). */
  | { kind: 'think_delta'; turn: number; text: string }
  /** The request is being retried; `discardPartial`: the streamed text so far is void. */
  | { kind: 'retry'; turn: number; attempt: number; waitMs: number; reason: string; discardPartial: boolean }
  /** The turn's text is complete: the streamed block is replaced by the parsed steps that follow. */
  | { kind: 'turn_complete'; turn: number }
  /** A think block of `turn`, complete. */
  | { kind: 'think'; turn: number; text: string; durationMs: number | null }
  /** A tool call; `window` null when the arguments had no usable range. */
  | { kind: 'tool_call'; turn: number; name: string; window: [number, number] | null; label: string | null; error: string | null }
  /** A tool result or a person's forced zoom: the tool's text and, when it succeeded, the PNG. */
  | { kind: 'image'; turn: number; forced: boolean; ok: boolean; text: string; png: Uint8Array | null; width: number; height: number; window: [number, number] | null; renderMs: number | null }
  /** The final answer as extracted (protocol §4). */
  | { kind: 'answer'; turn: number; verdict: 'YES' | 'NO' | null; formatOk: boolean; formatErrors: string[]; text: string }
  /** Something went wrong in this turn (endpoint failure, bad call, cancellation). */
  | { kind: 'error'; turn: number; message: string }
  /** The trajectory ended. */
  | { kind: 'finished'; status: string; turns: number; totalMs: number; error: string | null; tokens: number | null };

/** Header of one trajectory: what was asked of whom, on which spectrum. */
export interface TrajectoryInfo {
  id: string;
  /** Short tab title, e.g. "carbon #2". */
  title: string;
  guideId: string;
  guideVersion: string;
  model: string;
  endpoint: string;
  protocol: string;
  /** 'live' while (or after) running in this session; 'file' when opened from a .jsonl. */
  origin: 'live' | 'file';
  /** Where a file trajectory came from (path:line); null for live ones. */
  location: string | null;
  spectrumId: string;
  /** Tool windows are in the rest frame when true (the spectrum's redshift is known and used). */
  restFrame: boolean;
  redshift: number | null;
  createdAt: string;
  /** Saved to a traces file already (path), or null. */
  savedTo: string | null;
}

/** Start showing a trajectory (a new tab, selected); replaces one with the same id. */
export interface AgentTrajectoryMessage extends MessageBase {
  type: 'agent.trajectory';
  info: TrajectoryInfo;
  /** Events so far (a replay after the webview was recreated, or a whole saved trace). */
  events: TraceViewEvent[];
  /** Make it the selected tab. */
  select: boolean;
}

/** Events of a running trajectory, batched per host tick. */
export interface AgentEventsMessage extends MessageBase {
  type: 'agent.events';
  trajectoryId: string;
  events: TraceViewEvent[];
  /** Host clock (ms since epoch) when the batch was posted: the latency benchmark's origin. */
  postedAt: number;
}

/** Updated header of a trajectory (e.g. saved). */
export interface AgentTrajectoryInfoMessage extends MessageBase {
  type: 'agent.info';
  info: TrajectoryInfo;
}

/** Whether the agent may run here, and a one-line status for the panel's toolbar. */
export interface AgentStatusMessage extends MessageBase {
  type: 'agent.status';
  /** False in an untrusted workspace (the reason says so). */
  enabled: boolean;
  running: boolean;
  reason: string | null;
  endpoint: string;
  model: string;
}

/** Ask for the plot's current view, to force a zoom on it; answered by {@link AgentSelectionReply}. */
export interface AgentSelectionRequest extends RequestBase {
  type: 'agent.getSelection';
}

export type AgentHostToWebviewMessage = AgentTrajectoryMessage | AgentEventsMessage | AgentTrajectoryInfoMessage | AgentStatusMessage | AgentSelectionRequest;

/** The trace panel is mounted (again): the host replays its trajectories. */
export interface AgentPanelReadyMessage extends MessageBase {
  type: 'agent.ready';
}

/** Reply to {@link AgentSelectionRequest}: the zoomed plot range, or null when showing everything. */
export interface AgentSelectionReply extends RequestBase {
  type: 'agent.selection';
  /** In the plot's displayed frame. */
  range: [number, number] | null;
  /** The plot currently shows rest-frame wavelengths. */
  restFrame: boolean;
}

/** A button in the panel: the host runs the matching command. */
export interface AgentActionMessage extends MessageBase {
  type: 'agent.action';
  action: 'run' | 'rerun' | 'stop' | 'forceZoom' | 'save' | 'open';
  /** The trajectory the action applies to (the selected tab). */
  trajectoryId: string | null;
}

/** What the panel shows, posted after every settled update: for tests and the latency benchmark. */
export interface AgentPanelReportMessage extends MessageBase {
  type: 'agent.report';
  report: TracePanelReport;
}

export interface TracePanelReport {
  selected: string | null;
  trajectories: TrajectoryReport[];
}

export interface TrajectoryReport {
  id: string;
  title: string;
  /** Kinds of the rendered items in order: think, tool_call, image, forced_image, answer, error, streaming. */
  items: string[];
  /** Plain text of each think block as shown (after Markdown rendering). */
  thinkTexts: string[];
  /** Sizes of the images as decoded by the browser. */
  images: Array<{ width: number; height: number; forced: boolean; window: [number, number] | null; bytes: number }>;
  /** Badge text: "YES", "NO" or "no answer"; null while running. */
  verdict: string | null;
  formatOk: boolean | null;
  status: string | null;
  turns: number | null;
  errors: string[];
  running: boolean;
  /** Elements in rendered model text that could act (img, script, iframe, on* handlers): must stay 0. */
  unsafeElements: number;
}

export type AgentWebviewToHostMessage = AgentPanelReadyMessage | AgentSelectionReply | AgentActionMessage | AgentPanelReportMessage;

// =============================================================================================
// Trace curation editor (issue 6 §4–5): a .jsonl of traces as a filterable list, one trajectory
// shown with the agent trace view, and curation edits. The host owns the document (edits, undo,
// save); the webview only asks. Trajectories travel as the trace view's TrajectoryInfo and
// TraceViewEvents (one event per step, in step order), plus the step facts editing needs.
// =============================================================================================

/** One trajectory of the file as the curator's list shows it. */
export interface CurationTraceSummary {
  /** Position among the file's lines when opened: stable for the document's life, the key of every request. */
  entry: number;
  /** 1-based line in the file as opened. */
  line: number;
  id: string;
  createdAt: string;
  spectrumId: string;
  /** The spectrum file's base name. */
  file: string;
  survey: string;
  guideId: string;
  guideVersion: string;
  model: string;
  protocol: string;
  /** How the trajectory ended (TraceStatus). */
  status: string;
  verdict: 'YES' | 'NO' | null;
  formatOk: boolean;
  label: 'YES' | 'NO' | null;
  curation: 'approved' | 'rejected' | 'unreviewed';
  note: string | null;
  turns: number;
  editedAt: string | null;
  /** Changed since the file was opened or last saved. */
  modified: boolean;
}

/** A line that is not a readable trace; it is kept as it is on save. */
export interface CurationDamagedLine {
  line: number;
  reason: string;
  /** An unterminated last line (an interrupted writer). */
  truncated: boolean;
}

/** The whole file as a list; posted on open and after every change (edit, undo, redo, revert, save). */
export interface CurationDocumentMessage extends MessageBase {
  type: 'curation.document';
  fileName: string;
  /** 'notTraces': a JSONL file that is not SpecVet traces (`reason` says why; offer to reopen as text). */
  kind: 'traces' | 'empty' | 'notTraces';
  reason: string | null;
  traces: CurationTraceSummary[];
  damaged: CurationDamagedLine[];
  dirty: boolean;
}

/** What editing needs to know about one step (the trace view shows it; this addresses it). */
export interface CurationStepInfo {
  index: number;
  kind: 'think' | 'tool_call' | 'tool_result' | 'answer' | 'forced_zoom' | 'error';
  turn: number;
  text: string | null;
  /** For think steps: which block of its turn (0-based), as edits address it. */
  block: number | null;
}

/** One trajectory to show and edit; the reply to {@link CurationGetTraceRequest}, and pushed again after each change to it. */
export interface CurationTraceMessage extends MessageBase {
  type: 'curation.trace';
  requestId?: number;
  entry: number;
  traceId: string;
  info: TrajectoryInfo;
  /** traceToViewEvents(trace): one event per step, in order, then `finished`. */
  events: TraceViewEvent[];
  steps: CurationStepInfo[];
  /** Assistant turns; turns whose assistant message has no think block are listed so one can be added. */
  turns: number;
  turnsWithoutThink: number[];
  /** The final assistant turn's whole text when the trace ends with one, else null. */
  finalText: string | null;
  /** The turn a final answer lives in (null when the trace does not end with the model's turn). */
  finalTurn: number | null;
  /** Why export-sft would skip this trajectory now (null: it would be exported). */
  exportSkip: string | null;
}

/** Reply to {@link CurationEditRequest}. */
export interface CurationEditResultMessage extends MessageBase {
  type: 'curation.editResult';
  requestId: number;
  ok: boolean;
  /** What went wrong and where (a SpecVetError message), when not ok. */
  error: string | null;
}

/** An action started on the host side (command palette, keybinding) for the active curator. */
export interface CurationCommandMessage extends MessageBase {
  type: 'curation.command';
  command: 'next' | 'previous' | 'approve' | 'reject' | 'focusFilter';
}

export type CurationHostToWebviewMessage = CurationDocumentMessage | CurationTraceMessage | CurationEditResultMessage | CurationCommandMessage;

/** The curation page is running; `entry` is the trajectory its restored view state shows. */
export interface CurationReadyMessage extends MessageBase {
  type: 'curation.ready';
  entry: number | null;
}

/** Ask for one trajectory; answered by a {@link CurationTraceMessage} (or a {@link CurationEditResultMessage} with the error). */
export interface CurationGetTraceRequest extends RequestBase {
  type: 'curation.getTrace';
  entry: number;
}

/** A curation edit as the page asks for it (the host renders forced zooms and stamps the time). */
export type CurationEditSpec =
  | { op: 'setThink'; turn: number; block: number; text: string }
  | { op: 'deleteStep'; step: number }
  | { op: 'forceZoom'; afterTurn: number; range: [number, number]; label?: string }
  | { op: 'setFinalAnswer'; text: string }
  | { op: 'setLabel'; verdict: 'YES' | 'NO' | null }
  | { op: 'setCuration'; status: 'approved' | 'rejected' | 'unreviewed' }
  | { op: 'setNote'; note: string };

/** Apply an edit to trajectory `entry` (`traceId` guards against a stale page); answered by {@link CurationEditResultMessage}. */
export interface CurationEditRequest extends RequestBase {
  type: 'curation.edit';
  entry: number;
  traceId: string;
  edit: CurationEditSpec;
}

/** The user chose to open the file as plain text instead. */
export interface CurationReopenAsTextMessage extends MessageBase {
  type: 'curation.reopenAsText';
}

/** The list filters. */
export interface CurationFilters {
  verdict: 'any' | 'YES' | 'NO' | 'none';
  /** 'disagrees': labelled, and the label differs from the verdict. */
  label: 'any' | 'YES' | 'NO' | 'none' | 'disagrees';
  status: string;
  guide: string;
  curation: 'any' | 'approved' | 'rejected' | 'unreviewed';
  text: string;
}

/** What the curation page shows, posted after every settled update: for tests and status. */
export interface CurationViewReport {
  kind: 'loading' | 'traces' | 'empty' | 'notTraces';
  fileName: string;
  total: number;
  /** Entries shown by the current filters, in list order. */
  visible: number[];
  selected: number | null;
  /** The trajectory shown on the right and its selected step. */
  shownTraceId: string | null;
  selectedStep: number | null;
  filters: CurationFilters;
  dirty: boolean;
  /** What is being edited ('think 3', 'answer', 'note', 'zoom'), or null. */
  editing: string | null;
  /** The last error shown to the user. */
  error: string | null;
  damagedLines: number[];
  /** The shared trace view's own report for the shown trajectory. */
  trace: TrajectoryReport | null;
}

/** Posted after every settled update of the curation page. */
export interface CurationReportMessage extends MessageBase {
  type: 'curation.report';
  report: CurationViewReport;
}

export type CurationWebviewToHostMessage = CurationReadyMessage | CurationGetTraceRequest | CurationEditRequest | CurationReopenAsTextMessage | CurationReportMessage;
