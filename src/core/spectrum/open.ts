// Entry point of the spectrum layer: bytes or a path → SpectrumFile (format detected from the
// HDU structure by the survey adapters). Everything it throws is a SpecVetError.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { SpecVetError, errorMessage } from '../errors';
import { FitsFile, FitsHdu, readFits } from '../fits';
import type { HduListing, Spectrum, SpectrumFile } from './model';
import { SpectrumAdapter, headerRows } from './adapters/common';
import { lamostImageAdapter, lamostMrsAdapter, lamostTableAdapter } from './adapters/lamost';
import { sdssSpSpecAdapter, sdssSpecAdapter } from './adapters/sdss';
import { desiCoaddAdapter, desiRedrockAdapter, desiSpectraAdapter } from './adapters/desi';

/** Detection order: most specific structure first. */
export const ADAPTERS: readonly SpectrumAdapter[] = [
  desiRedrockAdapter,
  desiCoaddAdapter,
  desiSpectraAdapter,
  lamostTableAdapter,
  lamostMrsAdapter,
  sdssSpecAdapter,
  sdssSpSpecAdapter,
  lamostImageAdapter,
];

/** Largest file accepted on disk (bytes). */
export const MAX_FILE_BYTES = 2 ** 31;
/** Largest decompressed .fits.gz accepted (bytes): a gzip bomb stops here, not in the extension host's memory. */
export const MAX_GUNZIP_BYTES = 2 ** 30;

export function listHdus(fits: FitsFile): HduListing[] {
  return fits.hdus.map((h: FitsHdu) => {
    const l: HduListing = { index: h.index, name: h.name, kind: h.kind, detail: safeDescribe(h) };
    if (h.skipped) l.skipped = h.skipped;
    return l;
  });
}

function safeDescribe(h: FitsHdu): string {
  try {
    return h.describe();
  } catch (err) {
    return `unreadable header (${errorMessage(err)})`;
  }
}

/** Reads a spectrum file from bytes. Synchronous; gzip is detected by its magic bytes. */
export function readSpectrumFile(bytes: Uint8Array, fileName: string): SpectrumFile {
  const where = basename(fileName);
  return guard(where, () => {
    const fits = readFits(bytes, { source: where, maxGunzipBytes: MAX_GUNZIP_BYTES });
    const hdus = listHdus(fits);
    const detectErrors: SpecVetError[] = [];
    const adapter = ADAPTERS.find((a) => detectSafely(a, fits, detectErrors));
    if (!adapter) {
      // A damaged HDU that stopped a detector says more than "unknown format".
      if (detectErrors.length) throw detectErrors[0];
      const list = hdus.map((h) => `${h.index} ${h.name || '(unnamed)'} (${h.kind})`).join(', ');
      throw new SpecVetError('spectrum-format', `not a LAMOST, SDSS or DESI spectrum format SpecVet knows; its HDUs are: ${list}`, where);
    }
    const adapted = adapter.adapt(fits, where);
    return {
      path: fileName,
      format: adapter.format,
      survey: adapter.survey,
      hdus,
      primaryHeader: headerRows(fits.hdus[0].header),
      spectra: adapted.spectra,
      catalog: adapted.catalog,
      get: (index: number): Spectrum => guard(where, () => adapted.get(index)),
    };
  });
}

/** Reads and parses a spectrum file from disk. */
export function openSpectrumFile(path: string): SpectrumFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const what = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot read file: ${errorMessage(err)}`;
    throw new SpecVetError('io', what, path);
  }
  if (bytes.length > MAX_FILE_BYTES) throw new SpecVetError('fits-limit', `file of ${bytes.length} bytes is larger than ${MAX_FILE_BYTES}`, path);
  return readSpectrumFile(bytes, path);
}

/** A format check that cannot fail the open by itself: a detector that throws does not match (its error is kept). */
function detectSafely(a: SpectrumAdapter, fits: FitsFile, errors: SpecVetError[]): boolean {
  try {
    return a.detect(fits);
  } catch (err) {
    if (err instanceof SpecVetError) errors.push(err);
    return false;
  }
}

/** Every failure leaves as a SpecVetError: an unexpected exception becomes a 'fits-format' error naming the file. */
function guard<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpecVetError) throw err;
    throw new SpecVetError('fits-format', `cannot read the file: ${errorMessage(err)}`, where);
  }
}
