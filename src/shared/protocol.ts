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

export type HostToWebviewMessage = FileLoadedMessage | SpectrumMessage | ErrorMessage | ViewCommandMessage;

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

export type WebviewToHostMessage = ReadyMessage | GetSpectrumRequest | RenderedMessage | WebviewErrorMessage;
