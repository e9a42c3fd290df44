// The agent's zoom tool, `spectral_visualization_tool`, with the semantics and texts the Spec-o3
// models were trained on (docs/spec-o3-protocol.md §2): rest frame when the redshift is known,
// range validation, and result/error texts that echo numbers the way the Python tool printed them.
import { toRestFrame, type Spectrum } from '../spectrum/model';
import { DEFAULT_TITLE, renderSpectrumImage, type RenderedImage } from './index';

export const ZOOM_TOOL_NAME = 'spectral_visualization_tool';

export const ZOOM_TOOL_DESCRIPTION = 'A tool for visualizing spectral data with wavelength range zooming capabilities.';

export const ZOOM_TOOL_PARAMETERS = {
  type: 'object',
  properties: {
    wavelength_range: {
      type: 'array',
      items: { type: 'number' },
      description: 'Wavelength range to zoom into, as [min_wavelength, max_wavelength] in Ångström.',
    },
    label: {
      type: 'string',
      description: 'Optional name of the feature being examined (e.g. "H-alpha region").',
    },
  },
  required: ['wavelength_range'],
} as const;

export type ZoomFrame = 'rest' | 'observed';

export interface ZoomToolOptions {
  /** Show observed wavelengths even when the redshift is known. */
  observedFrame?: boolean;
  title?: string;
}

export type ZoomToolResult =
  | {
      ok: true;
      text: string;
      /** The requested window, or null for the whole spectrum. */
      window: [number, number] | null;
      image: { png: Uint8Array; width: number; height: number; svg: string };
      frame: ZoomFrame;
    }
  | { ok: false; text: string };

/** Wavelengths in the frame the tool shows: rest (observed / (1 + z)) when z is known. */
export function toolFrame(spectrum: Spectrum, observedFrame = false): { wavelength: Float64Array; frame: ZoomFrame } {
  const z = spectrum.meta.redshift;
  if (z !== null && Number.isFinite(z) && !observedFrame) return { wavelength: toRestFrame(spectrum.wavelength, z), frame: 'rest' };
  return { wavelength: Float64Array.from(spectrum.wavelength), frame: 'observed' };
}

/** The first-turn overview image: the whole spectrum, rest frame when z is known. */
export function renderOverview(spectrum: Spectrum, opts: ZoomToolOptions = {}): RenderedImage & { frame: ZoomFrame } {
  const { wavelength, frame } = toolFrame(spectrum, opts.observedFrame);
  const img = renderSpectrumImage({ wavelength, flux: spectrum.flux }, { window: null, title: opts.title ?? DEFAULT_TITLE });
  return { ...img, frame };
}

/**
 * Runs one tool call. `args` is the call's arguments: the raw JSON text the model wrote (preferred:
 * numbers are then echoed exactly as written, 12000 vs 12000.0) or an already parsed object.
 */
export function runZoomTool(spectrum: Spectrum, args: unknown, opts: ZoomToolOptions = {}): ZoomToolResult {
  const parsed = parseArguments(args);
  if (!parsed.ok) return { ok: false, text: `Error: Invalid tool arguments: ${parsed.reason}.` };
  const { range, rangeText, label } = parsed;
  const { wavelength, frame } = toolFrame(spectrum, opts.observedFrame);
  const [lo, hi] = dataRange(wavelength, spectrum.flux);
  const title = opts.title ?? DEFAULT_TITLE;

  if (range === undefined) {
    const img = renderSpectrumImage({ wavelength, flux: spectrum.flux }, { window: null, title });
    return { ok: true, text: 'Generated full spectrum visualization.', window: null, image: pickImage(img), frame };
  }
  const nums = Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (range as number[]) : null;
  const valid = nums !== null && nums[0] < nums[1] && Number.isFinite(lo) && nums[1] >= lo && nums[0] <= hi;
  if (!valid) {
    return {
      ok: false,
      text: `Error: The specified wavelength range ${rangeText} is invalid or outside the available data range [${pyFixed1(lo)}, ${pyFixed1(hi)}].`,
    };
  }
  const window: [number, number] = [nums[0], nums[1]];
  const img = renderSpectrumImage({ wavelength, flux: spectrum.flux }, { window, title });
  const parts = Array.isArray(range) ? (range as unknown[]) : [];
  const shown = parsed.itemTexts ?? parts.map(pyRepr);
  const suffix = label ? ` for ${label}` : '';
  return {
    ok: true,
    text: `Generated spectral visualization focused on wavelength range (${shown[0]}, ${shown[1]}) Å${suffix}.`,
    window,
    image: pickImage(img),
    frame,
  };
}

function pickImage(img: RenderedImage): { png: Uint8Array; width: number; height: number; svg: string } {
  return { png: img.png, width: img.width, height: img.height, svg: img.svg };
}

/** Range of the plottable points (finite wavelength and flux). */
function dataRange(wavelength: ArrayLike<number>, flux: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const n = Math.min(wavelength.length, flux.length);
  for (let i = 0; i < n; i++) {
    const w = wavelength[i];
    if (!Number.isFinite(w) || !Number.isFinite(flux[i])) continue;
    if (w < lo) lo = w;
    if (w > hi) hi = w;
  }
  return [lo, hi];
}

/** Python's '%.1f'; an empty spectrum has no range ('nan', as numpy would print it). */
function pyFixed1(x: number): string {
  return Number.isFinite(x) ? x.toFixed(1) : 'nan';
}

type ParsedArgs =
  | { ok: true; range: unknown; rangeText: string; itemTexts: string[] | null; label: string | null }
  | { ok: false; reason: string };

function parseArguments(args: unknown): ParsedArgs {
  let obj: unknown = args;
  let raw: string | null = null;
  if (typeof args === 'string') {
    raw = args;
    try {
      obj = args.trim() === '' ? {} : JSON.parse(args);
    } catch (err) {
      return { ok: false, reason: `not valid JSON (${(err as Error).message})` };
    }
  }
  if (obj === null || obj === undefined) obj = {};
  if (typeof obj !== 'object' || Array.isArray(obj)) return { ok: false, reason: 'expected a JSON object' };
  const rec = obj as Record<string, unknown>;
  const range = rec.wavelength_range;
  const labelValue = rec.label;
  const label = labelValue === undefined || labelValue === null || labelValue === '' ? null : typeof labelValue === 'string' ? labelValue : pyRepr(labelValue);
  if (range === undefined || range === null) return { ok: true, range: undefined, rangeText: 'None', itemTexts: null, label };
  const itemTexts = raw !== null ? rawRangeItems(raw) : null;
  const usable = itemTexts !== null && Array.isArray(range) && itemTexts.length === range.length ? itemTexts : null;
  const rangeText = usable ? `[${usable.join(', ')}]` : pyRepr(range);
  return { ok: true, range, rangeText, itemTexts: usable, label };
}

/** The number tokens of "wavelength_range": [...] exactly as written, in Python's repr. */
function rawRangeItems(raw: string): string[] | null {
  const m = /"wavelength_range"\s*:\s*\[([^\[\]]*)\]/.exec(raw);
  if (!m) return null;
  const body = m[1].trim();
  if (body === '') return [];
  const tokens = body.split(',').map((t) => t.trim());
  const out: string[] = [];
  for (const t of tokens) {
    if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return null;
    out.push(/[.eE]/.test(t) ? pyFloatRepr(Number(t)) : String(BigInt(t)));
  }
  return out;
}

/** Python's repr of a JSON value as json.loads would produce it. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e16 ? String(v) : pyFloatRepr(v);
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** Python's float repr: shortest round-trip digits, '.0' for integral values, exponent outside 1e-4..1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e16 || abs < 1e-4) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + q;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch.charCodeAt(0) < 0x20) out += '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
    else out += ch;
  }
  return q + out + q;
}
