// The FITS file walker: splits bytes into HDUs (header + data extent) without decoding any data.
// Data are decoded lazily by FitsImage / FitsTable, only for the part asked for, so listing a
// 100 MB DESI file costs one header parse per HDU.
import { gunzipSync } from 'node:zlib';
import { SpecVetError } from '../errors';
import { BLOCK, FitsHeader, intKey, parseHeader } from './header';
import { BITPIX_KIND, FitsImage, imageFromHeader } from './image';
import { numericValue, scaledTypeName } from './scaling';
import { FitsTable, tableFromHeader } from './table';
import { compressedImageFromTable } from './compressed';

export type HduKind = 'image' | 'bintable' | 'table' | 'header' | 'compressed-image' | 'unsupported';

export interface ReadFitsOptions {
  /** Name used in error messages (file name). */
  source?: string;
  /** Largest decompressed size accepted for gzip input, in bytes (default 2 GiB). */
  maxGunzipBytes?: number;
  /** Largest number of HDUs walked (default 10 000). */
  maxHdus?: number;
}

/** Largest element count of one data array we agree to handle (2^31). */
export const MAX_ELEMENTS = 2 ** 31;

export class FitsHdu {
  private imageCache: FitsImage | undefined;
  private tableCache: FitsTable | undefined;

  constructor(
    readonly index: number,
    readonly header: FitsHeader,
    /** Bytes of the whole (decompressed) file: data views index into it. */
    readonly bytes: Uint8Array,
    readonly headerOffset: number,
    readonly dataOffset: number,
    /** Data size in bytes without block padding. */
    readonly dataLength: number,
    readonly kind: HduKind,
    /** Why the HDU is not decoded (kind 'compressed-image' with an unsupported algorithm, 'unsupported'). */
    readonly skipped: string | undefined,
    /** The file name used in messages. */
    readonly source = '',
  ) {}

  /** EXTNAME, 'PRIMARY' for an unnamed first HDU, '' otherwise. */
  get name(): string {
    const n = this.header.string('EXTNAME');
    if (n !== null && n.trim() !== '') return n.trim();
    return this.index === 0 ? 'PRIMARY' : '';
  }

  /** "HDU 3 (B_FLUX)" for error messages. */
  get where(): string {
    const hdu = this.name ? `HDU ${this.index} (${this.name})` : `HDU ${this.index}`;
    return this.source ? `${this.source}, ${hdu}` : hdu;
  }

  /** The image of an image HDU (or of a tile-compressed image we can decode). */
  image(): FitsImage {
    if (this.imageCache) return this.imageCache;
    if (this.kind === 'image' && this.skipped) throw new SpecVetError('fits-limit', this.skipped, this.where);
    if (this.kind === 'image' || this.kind === 'header') {
      this.imageCache = imageFromHeader(this.header, this.bytes, this.dataOffset, this.where);
    } else if (this.kind === 'compressed-image' && !this.skipped) {
      this.imageCache = compressedImageFromTable(this.header, this.table(), this.where);
    } else {
      throw new SpecVetError('fits-unsupported', `not an image HDU (${this.kind}${this.skipped ? `: ${this.skipped}` : ''})`, this.where);
    }
    return this.imageCache;
  }

  /** The binary table of a BINTABLE HDU (also the raw table behind a compressed image). */
  table(): FitsTable {
    if (this.tableCache) return this.tableCache;
    if (this.kind !== 'bintable' && this.kind !== 'compressed-image') {
      throw new SpecVetError('fits-unsupported', `not a binary table HDU (${this.kind})`, this.where);
    }
    this.tableCache = tableFromHeader(this.header, this.bytes, this.dataOffset, this.dataLength, this.where);
    return this.tableCache;
  }

  /** Short human description, e.g. "3904×5 float32" or "5 rows × 70 cols". */
  describe(): string {
    const h = this.header;
    const naxis = intKey(h, 'NAXIS', this.where) ?? 0;
    if (this.kind === 'image' || this.kind === 'header') {
      if (naxis === 0) return 'no data';
      const dims: number[] = [];
      for (let i = 1; i <= naxis; i++) dims.push(intKey(h, `NAXIS${i}`, this.where) ?? 0);
      return `${dims.join('×')} ${elementType(h, intKey(h, 'BITPIX', this.where) ?? 0)}`;
    }
    if (this.kind === 'compressed-image') {
      const zn = intKey(h, 'ZNAXIS', this.where) ?? 0;
      const dims: number[] = [];
      for (let i = 1; i <= zn && i <= 999; i++) dims.push(intKey(h, `ZNAXIS${i}`, this.where) ?? 0);
      return `${dims.join('×')} ${elementType(h, intKey(h, 'ZBITPIX', this.where) ?? 0)}, tile-compressed ${h.string('ZCMPTYPE') ?? '?'}`;
    }
    if (this.kind === 'bintable' || this.kind === 'table') {
      const rows = intKey(h, 'NAXIS2', this.where) ?? 0;
      return `${rows} row${rows === 1 ? '' : 's'} × ${intKey(h, 'TFIELDS', this.where) ?? 0} columns`;
    }
    return h.string('XTENSION') ?? 'unknown';
  }
}

export interface FitsFile {
  hdus: FitsHdu[];
  /** The bytes the HDUs index into (decompressed when the input was gzip). */
  bytes: Uint8Array;
  /** True when the input was gzip-compressed. */
  gzipped: boolean;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip input with a bound on the output size; damaged streams become 'gzip' errors. */
export function gunzipBounded(bytes: Uint8Array, maxBytes: number, where: string): Uint8Array {
  try {
    const out = gunzipSync(bytes, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new SpecVetError('fits-limit', `gzip data decompresses to more than ${maxBytes} bytes`, where);
    }
    const msg = err instanceof Error ? err.message : String(err);
    throw new SpecVetError('gzip', `damaged gzip data: ${msg}`, where);
  }
}

/** Reads the HDU structure of a FITS file (plain or gzip). Synchronous; decodes no data. */
export function readFits(input: Uint8Array, opts: ReadFitsOptions = {}): FitsFile {
  const source = opts.source ?? 'FITS data';
  const gzipped = isGzip(input);
  // A plain Uint8Array view (not a Buffer) so that slice() anywhere below means copy.
  const plain = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const bytes = gzipped ? gunzipBounded(plain, opts.maxGunzipBytes ?? 2 ** 31, source) : plain;
  const maxHdus = opts.maxHdus ?? 10_000;
  if (bytes.length < 80 || !startsWith(bytes, 0, 'SIMPLE  =')) {
    throw new SpecVetError('fits-format', `not a FITS file: it does not start with a SIMPLE card`, source);
  }
  const hdus: FitsHdu[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const index = hdus.length;
    if (index > 0 && !startsWith(bytes, offset, 'XTENSION=')) {
      // Trailing bytes that are not an extension (zero padding, junk) end the file, as in cfitsio.
      break;
    }
    if (index >= maxHdus) throw new SpecVetError('fits-limit', `more than ${maxHdus} HDUs`, `${source}, byte ${offset}`);
    const where = `${source}, HDU ${index}`;
    const { header, end } = parseHeader(bytes, offset, where);
    const layout = dataLayout(header, index, where);
    if (layout.bytes > bytes.length - end) {
      throw new SpecVetError(
        'fits-truncated',
        `data of ${layout.bytes} bytes declared at byte ${end} but the file ends at byte ${bytes.length}`,
        where,
      );
    }
    hdus.push(new FitsHdu(index, header, bytes, offset, end, layout.bytes, layout.kind, layout.skipped, source));
    offset = end + Math.ceil(layout.bytes / BLOCK) * BLOCK;
  }
  return { hdus, bytes, gzipped };
}

interface DataLayout {
  kind: HduKind;
  bytes: number;
  skipped?: string;
}

/** Data size per §4.4.1.1: |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1×…×NAXISn), with limits checked before any use. */
function dataLayout(h: FitsHeader, index: number, where: string): DataLayout {
  const bitpix = intKey(h, 'BITPIX', where);
  if (bitpix === null || ![8, 16, 32, 64, -32, -64].includes(bitpix)) {
    throw new SpecVetError('fits-format', `BITPIX must be one of 8, 16, 32, 64, -32, -64, got ${h.text('BITPIX') || 'nothing'}`, where);
  }
  const naxis = intKey(h, 'NAXIS', where);
  if (naxis === null || naxis < 0 || naxis > 999) {
    throw new SpecVetError('fits-format', `NAXIS must be 0…999, got ${h.text('NAXIS') || 'nothing'}`, where);
  }
  let elements = naxis === 0 ? 0 : 1;
  for (let i = 1; i <= naxis; i++) {
    const n = intKey(h, `NAXIS${i}`, where);
    if (n === null || n < 0) throw new SpecVetError('fits-format', `NAXIS${i} must be a non-negative integer, got ${h.text(`NAXIS${i}`) || 'nothing'}`, where);
    elements *= n;
    if (elements > 2 ** 53) throw new SpecVetError('fits-limit', `declared data size overflows (NAXIS${i} = ${n})`, where);
  }
  const pcount = intKey(h, 'PCOUNT', where) ?? 0;
  const gcount = intKey(h, 'GCOUNT', where) ?? 1;
  if (pcount < 0 || gcount < 0) throw new SpecVetError('fits-format', `PCOUNT and GCOUNT must be non-negative`, where);
  const total = (Math.abs(bitpix) / 8) * gcount * (pcount + elements);
  if (!Number.isSafeInteger(total) || total > 2 ** 40) {
    throw new SpecVetError('fits-limit', `declared data size ${total} bytes is beyond any real file`, where);
  }

  const xt = index === 0 ? null : (h.string('XTENSION') ?? '').trim().toUpperCase();
  if (index > 0 && xt === null) throw new SpecVetError('fits-format', 'extension without XTENSION', where);
  let kind: HduKind;
  let skipped: string | undefined;
  if (xt === null || xt === 'IMAGE') {
    kind = naxis === 0 || elements === 0 ? 'header' : 'image';
    if (elements > MAX_ELEMENTS) skipped = `image of ${elements} elements exceeds the ${MAX_ELEMENTS}-element limit`;
  } else if (xt === 'BINTABLE') {
    if (h.bool('ZIMAGE') === true) {
      kind = 'compressed-image';
      const alg = (h.string('ZCMPTYPE') ?? '').trim().toUpperCase();
      if (alg !== 'GZIP_1' && alg !== 'GZIP_2' && alg !== 'NOCOMPRESS') skipped = `tile compression ${alg || '(none named)'} is not decoded`;
    } else {
      kind = 'bintable';
    }
  } else if (xt === 'TABLE') {
    kind = 'table';
    skipped = 'ASCII tables are not decoded';
  } else {
    kind = 'unsupported';
    skipped = `extension type ${xt} is not decoded`;
  }
  return { kind, bytes: total, skipped };
}

function startsWith(bytes: Uint8Array, offset: number, text: string): boolean {
  if (offset + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Element type after BSCALE/BZERO (e.g. "uint32" for BITPIX 32 with BZERO 2^31). */
function elementType(h: FitsHeader, bitpix: number): string {
  const kind = BITPIX_KIND[bitpix];
  if (!kind) return bitpixName(bitpix);
  return scaledTypeName(kind, numericValue(h.get('BSCALE'), 1), numericValue(h.get('BZERO'), 0));
}

export function bitpixName(bitpix: number): string {
  switch (bitpix) {
    case 8: return 'uint8';
    case 16: return 'int16';
    case 32: return 'int32';
    case 64: return 'int64';
    case -32: return 'float32';
    case -64: return 'float64';
    default: return `BITPIX ${bitpix}`;
  }
}
