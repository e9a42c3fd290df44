// The one spectrum model every survey adapter produces and every consumer (renderer, agent,
// webview, CLI) reads. Wavelengths are always Ångström in the frame the file gives (observed);
// the rest frame is derived on demand from `meta.redshift`, never stored twice.

/** How the file's wavelengths were measured: LAMOST and SDSS/DESI pipelines differ. */
export type WavelengthMedium = 'air' | 'vacuum';

export type SurveyName = 'LAMOST' | 'SDSS' | 'DESI';

/** Structural format names, detected from the HDU layout, not from header claims. */
export type SpectrumFormat =
  | 'lamost-lrs-image'
  | 'lamost-lrs-table'
  | 'lamost-mrs'
  | 'sdss-spec'
  | 'sdss-spspec'
  | 'desi-coadd'
  | 'desi-spectra'
  | 'desi-redrock';

/** Where a redshift value came from, so the UI and traces can say it. */
export interface RedshiftSource {
  /** e.g. "header Z", "SPECOBJ.Z", "redrock REDSHIFTS.Z" */
  origin: string;
  error: number | null;
}

export interface SpectrumMeta {
  survey: SurveyName;
  format: SpectrumFormat;
  /** The survey's own identifier as a string: DESI TARGETID exactly, LAMOST OBSID (file name when absent), SDSS plate-mjd-fiber. */
  id: string;
  /** Object name or designation if the file has one. */
  name: string | null;
  /** Pipeline class (STAR, GALAXY, QSO, ...) or null when unknown. */
  objectClass: string | null;
  subclass: string | null;
  redshift: number | null;
  redshiftSource: RedshiftSource | null;
  ra: number | null;
  dec: number | null;
  /** Signal-to-noise per band, keyed by band letter (u, g, r, i, z, b, ...). */
  snr: Record<string, number>;
  mjd: number | null;
  plate: number | null;
  fiber: number | null;
  targetId: string | null;
  /** Human-readable flux unit, e.g. "1e-17 erg/s/cm²/Å" or "counts (relative)". */
  fluxUnit: string;
}

/** One spectrograph arm (DESI b/r/z) kept as the file gives it. */
export interface SpectrumArm {
  name: string;
  wavelength: Float64Array;
  flux: Float32Array;
  ivar: Float32Array;
  /** Non-zero = bad pixel (the survey's bitmask value). Null when the arm has no mask. */
  mask: Int32Array | null;
}

export interface Spectrum {
  /** Position in the file (0 for single-spectrum files). */
  index: number;
  meta: SpectrumMeta;
  /** Ascending wavelengths in Å (observed frame). */
  wavelength: Float64Array;
  medium: WavelengthMedium;
  flux: Float32Array;
  /** Inverse variance, 0 where the pipeline has no information. Null when the file has none. */
  ivar: Float32Array | null;
  /** Survey bitmask per pixel (e.g. AND mask); non-zero = flagged. Null when absent. */
  mask: Int32Array | null;
  /** Sky spectrum where the file has one (same grid), else null. */
  sky: Float32Array | null;
  /** For multi-arm data the arms as stored; `wavelength`/`flux` are then the ivar-weighted combination. */
  arms: SpectrumArm[] | null;
  /** True when the fibre is empty or unassigned (all-zero flux, negative TARGETID, ...). */
  empty: boolean;
}

/** A cheap description of one spectrum in a file, for pickers and `specvet info`. */
export interface SpectrumSummary {
  index: number;
  id: string;
  nPixels: number;
  wavelengthMin: number;
  wavelengthMax: number;
  redshift: number | null;
  objectClass: string | null;
  ra: number | null;
  dec: number | null;
  empty: boolean;
}

/** One HDU as listed to the user (decoded or not). */
export interface HduListing {
  index: number;
  name: string;
  /** 'image' | 'bintable' | 'table' | 'header' | 'compressed-image' | 'unsupported' */
  kind: string;
  /** Human-readable detail, e.g. "3853×5 float32" or "5 rows × 70 cols". */
  detail: string;
  /** Set when the HDU was skipped because it cannot be decoded (e.g. tile-compressed). */
  skipped?: string;
}

/** A row of a redshift catalogue (DESI redrock): not a spectrum, shown as a table. */
export interface CatalogRow {
  targetId: string;
  z: number;
  zErr: number | null;
  zWarn: number | null;
  spectype: string;
  subtype: string;
  deltaChi2: number | null;
}

/** Everything the adapters make of one file. Spectra are built lazily: `get(i)` on a 500-spectrum DESI file touches only that column. */
export interface SpectrumFile {
  path: string;
  format: SpectrumFormat;
  survey: SurveyName;
  hdus: HduListing[];
  /** Primary header cards for display: [keyword, value-as-text, comment]. */
  primaryHeader: Array<[string, string, string]>;
  spectra: SpectrumSummary[];
  /** Build spectrum `index` (0-based). Throws a SpecVetError on a bad index. */
  get(index: number): Spectrum;
  /** Present for catalogue files (desi-redrock); `spectra` is then empty. */
  catalog: CatalogRow[] | null;
}

/** Rest-frame wavelength for a spectrum with a known redshift. */
export function toRestFrame(wavelength: ArrayLike<number>, redshift: number): Float64Array {
  const out = new Float64Array(wavelength.length);
  const f = 1 / (1 + redshift);
  for (let i = 0; i < wavelength.length; i++) out[i] = wavelength[i] * f;
  return out;
}
