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

export type HostToWebviewMessage = FileLoadedMessage | SpectrumMessage | ErrorMessage | ViewCommandMessage | AgentHostToWebviewMessage;

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
  view: 'plot' | 'catalog' | 'error' | 'empty';
  fileName: string;
  title: string;
  spectrumIndex: number;
  spectrumCount: number;
  /** Pixels in the spectrum and points handed to the plot after decimation. */
  nPoints: number;
  drawnPoints: number;
  xRange: [number, number] | null;
  yRange: [number, number] | null;
  /** Wavelength convention stated on the plot, e.g. "vacuum, observed frame". */
  axisLabel: string;
  smoothing: string;
  /** Constructor names of the arrays as they arrived (proves binary transfer, not JSON). */
  arrayTypes: Record<string, string>;
  /** ms from the host's `openedAt` to the first paint of this editor (set on the first plot only). */
  firstPaintMs: number | null;
  errorText: string | null;
  catalogRows: number;
  theme: 'light' | 'dark' | 'high-contrast';
}

/** An unexpected exception inside the webview, reported so the host can log it. */
export interface WebviewErrorMessage extends MessageBase {
  type: 'webviewError';
  message: string;
}

export type WebviewToHostMessage = ReadyMessage | GetSpectrumRequest | RenderedMessage | WebviewErrorMessage | AgentWebviewToHostMessage;

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
  images: Array<{ width: number; height: number; forced: boolean; window: [number, number] | null }>;
  /** Badge text: "YES", "NO" or "no answer"; null while running. */
  verdict: string | null;
  formatOk: boolean | null;
  status: string | null;
  turns: number | null;
  errors: string[];
  running: boolean;
}

export type AgentWebviewToHostMessage = AgentPanelReadyMessage | AgentSelectionReply | AgentActionMessage | AgentPanelReportMessage;
