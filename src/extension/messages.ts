// Builds the host → webview protocol messages from the core's spectrum model. No vscode import:
// the headless-browser tests feed the webview with exactly these messages.
import type { SpectrumFile } from '../core/spectrum/model';
import { SpecVetError, errorMessage } from '../core/errors';
import type { ErrorMessage, FileLoadedMessage, HduListing, SpectrumMessage } from '../shared/protocol';

/** A typed array that owns its whole buffer, so postMessage transfers only these bytes. */
function compact<T extends Float64Array | Float32Array | Int32Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice() as T);
}

export function fileLoadedMessage(file: SpectrumFile, fileName: string, openedAt: number, hostPhases?: Record<string, number>): FileLoadedMessage {
  return {
    type: 'fileLoaded',
    fileName,
    format: file.format,
    survey: file.survey,
    hdus: file.hdus,
    primaryHeader: file.primaryHeader,
    spectra: file.spectra,
    catalog: file.catalog,
    openedAt,
    hostPhases,
  };
}

/** Spectrum `index` as a message, or the error building it raised (bad index, damaged column...). */
export function spectrumMessage(file: SpectrumFile, fileName: string, index: number, requestId?: number): SpectrumMessage | ErrorMessage {
  try {
    const s = file.get(index);
    return {
      type: 'spectrum',
      requestId,
      index: s.index,
      meta: s.meta,
      medium: s.medium,
      empty: s.empty,
      wavelength: compact(s.wavelength),
      flux: compact(s.flux),
      ivar: s.ivar && compact(s.ivar),
      mask: s.mask && compact(s.mask),
      sky: s.sky && compact(s.sky),
      arms: s.arms ? s.arms.map((a) => a.name) : [],
      armSpectra: (s.arms ?? []).map((a) => ({
        name: a.name,
        wavelength: compact(a.wavelength),
        flux: compact(a.flux),
        ivar: a.ivar && compact(a.ivar),
        mask: a.mask && compact(a.mask),
      })),
    };
  } catch (err) {
    return errorToMessage(err, fileName, file.hdus, requestId);
  }
}

export function errorToMessage(err: unknown, fileName: string, hdus: HduListing[] | null, requestId?: number): ErrorMessage {
  const isSpecVet = err instanceof SpecVetError;
  return {
    type: 'error',
    requestId,
    code: isSpecVet ? err.code : 'internal',
    // SpecVetError's message already ends with "(where)"; `where` is kept apart for the detail line.
    message: isSpecVet ? err.message : `unexpected error: ${errorMessage(err)}`,
    where: isSpecVet ? err.where ?? null : null,
    fileName,
    hdus,
  };
}
