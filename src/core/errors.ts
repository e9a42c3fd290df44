// One error type for everything the core reports to a user: what went wrong and where.
// Callers (CLI, extension) show `message`; `code` lets tests and UI branch without parsing text.

export type SpecVetErrorCode =
  | 'fits-format'      // not FITS, or a structural violation of the standard
  | 'fits-truncated'   // the bytes end before the header or data says they should
  | 'fits-limit'       // a declared size beyond what we agree to allocate
  | 'fits-unsupported' // valid FITS we do not decode
  | 'gzip'             // the gzip stream is damaged
  | 'spectrum-format'  // FITS is fine but it is no spectrum format we know
  | 'spectrum-index'   // asked for a spectrum the file does not hold
  | 'render'           // the renderer could not draw
  | 'tool-range'       // the zoom tool was given a bad range
  | 'guide'            // a guide file is malformed
  | 'trace'            // a trace file is malformed
  | 'endpoint'         // the model endpoint failed
  | 'usage'            // a CLI or settings value is wrong
  | 'io';              // a file could not be read or written

export class SpecVetError extends Error {
  override readonly name = 'SpecVetError';
  constructor(
    readonly code: SpecVetErrorCode,
    message: string,
    /** Where: a file path, "HDU 3 (B_FLUX)", "byte 28800", a settings key... */
    readonly where?: string,
  ) {
    super(where ? `${message} (${where})` : message);
  }
}

/** Message of any thrown value, for places that must report and carry on. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
