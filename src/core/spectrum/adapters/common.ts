// Helpers every survey adapter shares: array conversions, header metadata, summaries.
import { SpecVetError } from '../../errors';
import type { ColumnValues, FitsFile, FitsHdu, FitsHeader, ScaledArray } from '../../fits';
import type { Spectrum, SpectrumArm, SpectrumFormat, SpectrumSummary, SurveyName, CatalogRow, WavelengthMedium } from '../model';

/** What an adapter makes of a file; open.ts adds path, HDU listing and header. */
export interface AdaptedFile {
  spectra: SpectrumSummary[];
  get(index: number): Spectrum;
  catalog: CatalogRow[] | null;
}

export interface SpectrumAdapter {
  format: SpectrumFormat;
  survey: SurveyName;
  /** Recognises the format from the HDU structure (names, kinds, shapes, columns). */
  detect(fits: FitsFile): boolean;
  adapt(fits: FitsFile, fileName: string): AdaptedFile;
}

type NumericArray = Exclude<ColumnValues, string[] | Array<boolean | null>>;

function numeric(v: ColumnValues | ScaledArray, what: string): NumericArray {
  if (Array.isArray(v)) throw new SpecVetError('spectrum-format', `${what} is not numeric`);
  return v as NumericArray;
}

export function toFloat32(v: ColumnValues | ScaledArray, what: string): Float32Array {
  const a = numeric(v, what);
  if (a instanceof Float32Array) return a;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  return out;
}

export function toFloat64(v: ColumnValues | ScaledArray, what: string): Float64Array {
  const a = numeric(v, what);
  if (a instanceof Float64Array) return a;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  return out;
}

/** Bitmask values as Int32 (unsigned 32-bit masks keep their bits; float-stored masks are truncated). */
export function toMask(v: ColumnValues | ScaledArray, what: string): Int32Array {
  const a = numeric(v, what);
  if (a instanceof Int32Array) return a;
  if (a instanceof Uint32Array) return new Int32Array(a.buffer, a.byteOffset, a.length);
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    out[i] = Number.isFinite(x) ? x | 0 : 0;
  }
  return out;
}

/** Primary header for display: [keyword, value text, comment], END excluded. */
export function headerRows(h: FitsHeader): Array<[string, string, string]> {
  return h.cards.map((c) => [c.keyword, c.valueText, c.comment]);
}

export function hduByName(fits: FitsFile, name: string): FitsHdu | undefined {
  const up = name.toUpperCase();
  return fits.hdus.find((h) => h.name.toUpperCase() === up);
}

/** Trimmed string or null when absent/blank. */
export function str(h: FitsHeader, key: string): string | null {
  const s = h.string(key);
  return s === null || s.trim() === '' ? null : s.trim();
}

/** Finite number or null; survey placeholders such as -9999 count as absent. */
export function num(h: FitsHeader, key: string): number | null {
  return finite(h.numberLoose(key));
}

export function finite(v: number | bigint | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) && n > -9990 ? n : null;
}

/** Integer-valued header keyword as exact text (OBSID, TARGETID ...). */
export function idText(h: FitsHeader, key: string): string | null {
  const v = h.get(key);
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  return null;
}

/** VACUUM = T/F when the file says; the survey's documented convention otherwise. */
export function mediumFrom(h: FitsHeader, fallback: WavelengthMedium): WavelengthMedium {
  const v = h.bool('VACUUM');
  if (v === true) return 'vacuum';
  if (v === false) return 'air';
  const a = (h.string('AIRORVAC') ?? '').trim().toLowerCase();
  if (a.startsWith('air')) return 'air';
  if (a.startsWith('vac')) return 'vacuum';
  return fallback;
}

/** True when the header carries a log-linear dispersion (COEFF0/COEFF1 or CRVAL1/CD1_1 in log10 Å). */
export function hasLogLinear(h: FitsHeader): boolean {
  const c0 = h.number('COEFF0') ?? h.number('CRVAL1');
  const c1 = h.number('COEFF1') ?? h.number('CD1_1') ?? h.number('CDELT1');
  return c0 !== null && c1 !== null && c1 > 0 && c0 >= 2 && c0 <= 6;
}

/** λ = 10^(COEFF0 + COEFF1·i) (log-linear SDSS/LAMOST dispersion), CRVAL1/CD1_1 as fallback. */
export function logLinearWavelength(h: FitsHeader, n: number, where: string): Float64Array {
  const c0 = h.number('COEFF0') ?? h.number('CRVAL1');
  const c1 = h.number('COEFF1') ?? h.number('CD1_1') ?? h.number('CDELT1');
  if (c0 === null || c1 === null || !(c1 > 0) || c0 < 2 || c0 > 6) {
    throw new SpecVetError('spectrum-format', 'no usable log-linear wavelength solution (COEFF0/COEFF1 or CRVAL1/CD1_1)', where);
  }
  const crpix = h.number('CRPIX1') ?? 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 10 ** (c0 + c1 * (i + 1 - crpix));
  return out;
}

/** Wavelengths in Å from a column of log10 wavelengths (SDSS and LAMOST MRS `loglam`). */
export function wavelengthFromLog10(loglam: Float64Array): Float64Array {
  const out = new Float64Array(loglam.length);
  for (let i = 0; i < loglam.length; i++) out[i] = 10 ** loglam[i];
  return out;
}

export function fluxUnitText(bunit: string | null, fallback: string): string {
  if (!bunit) return fallback;
  const b = bunit.replace(/\s+/g, '');
  if (/^(1(\.0)?E-17|10\*\*-17)erg/i.test(b)) return '1e-17 erg/s/cm²/Å';
  return bunit.trim();
}

/** Lowest and highest finite wavelengths. */
export function wavelengthRange(wl: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < wl.length; i++) {
    const w = wl[i];
    if (w < lo) lo = w;
    if (w > hi) hi = w;
  }
  return Number.isFinite(lo) ? [lo, hi] : [NaN, NaN];
}

export function summaryOf(s: Spectrum): SpectrumSummary {
  const [lo, hi] = wavelengthRange(s.wavelength);
  return {
    index: s.index,
    id: s.meta.id,
    nPixels: s.wavelength.length,
    wavelengthMin: lo,
    wavelengthMax: hi,
    redshift: s.meta.redshift,
    objectClass: s.meta.objectClass,
    ra: s.meta.ra,
    dec: s.meta.dec,
    empty: s.empty,
  };
}

/** What a single-spectrum adapter reads; index 0, `empty` (all-zero flux) and no arms are filled in. */
export type SingleSpectrum = Omit<Spectrum, 'index' | 'arms' | 'empty'> & { arms?: SpectrumArm[] };

/** A single-spectrum file: built once, served for index 0 only. */
export function singleSpectrumFile(build: () => SingleSpectrum, fileName: string): AdaptedFile {
  const s = build();
  const spectrum: Spectrum = {
    index: 0,
    meta: s.meta,
    wavelength: s.wavelength,
    medium: s.medium,
    flux: s.flux,
    ivar: s.ivar,
    mask: s.mask,
    sky: s.sky,
    arms: s.arms ?? null,
    empty: allZero(s.flux),
  };
  return {
    spectra: [summaryOf(spectrum)],
    catalog: null,
    get(index: number): Spectrum {
      if (index !== 0) throw new SpecVetError('spectrum-index', `spectrum ${index} requested but the file holds 1 spectrum (index 0)`, fileName);
      return spectrum;
    },
  };
}

/** True when every value is zero (an empty fibre) — NaN counts as non-zero data. */
export function allZero(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

export function fileStem(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(/\.gz$/i, '').replace(/\.(fits|fit|fts)$/i, '');
}

export function snrFrom(h: FitsHeader, bands: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bands) {
    const v = num(h, `SNR${b.toUpperCase()}`) ?? num(h, `SN_${b.toUpperCase()}`);
    if (v !== null) out[b] = v;
  }
  return out;
}
