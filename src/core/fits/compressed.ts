// Tile-compressed images (FITS 4.0 §10) stored as binary tables with ZIMAGE = T. GZIP_1 and
// GZIP_2 tiles are lossless integer (or unquantised float) data and cheap to decode with
// node:zlib, so DESI `spectra-` files keep their masks; RICE/HCOMPRESS/PLIO and quantised floats
// are listed as skipped by the reader instead.
import { gunzipSync } from 'node:zlib';
import { SpecVetError } from '../errors';
import { FitsHeader, intKey } from './header';
import { KIND_SIZE, RawArray, swapInPlace } from './endian';
import { BITPIX_KIND, FitsImage, ScaledImage } from './image';
import type { FitsTable } from './table';

const MAX_ELEMENTS = 2 ** 31;
/** Largest decoded tile-compressed image (1 GiB): the declared size is all we know before inflating. */
const MAX_DECODED_BYTES = 2 ** 30;

class CompressedImage extends ScaledImage {
  private decoded: RawArray | undefined;

  constructor(
    bitpix: number,
    shape: number[],
    private readonly tiles: number[],
    private readonly algorithm: string,
    private readonly table: FitsTable,
    header: FitsHeader,
    where: string,
  ) {
    super(bitpix, shape, header, header.get('ZBLANK') ?? header.get('BLANK'), where);
  }

  protected readRaw(start: number, count: number): RawArray {
    // A fresh copy so that scaling in place never alters the cache.
    return this.decodeAll().slice(start, start + count);
  }

  /** Decodes every tile into one native array (masks are small; decoded once and cached). */
  private decodeAll(): RawArray {
    if (this.decoded) return this.decoded;
    const size = KIND_SIZE[this.kind];
    if (this.length * size > MAX_DECODED_BYTES) {
      throw new SpecVetError('fits-limit', `compressed image decodes to ${this.length * size} bytes, more than ${MAX_DECODED_BYTES}`, this.where);
    }
    const out = new Uint8Array(this.length * size);
    const col = this.table.find('COMPRESSED_DATA');
    if (!col) throw new SpecVetError('fits-format', 'tile-compressed image without a COMPRESSED_DATA column', this.where);
    const naxes = this.shape.length;
    const nTiles = this.shape.map((n, i) => Math.ceil(n / this.tiles[i]));
    const totalTiles = nTiles.reduce((a, b) => a * b, 1);
    if (totalTiles !== this.table.nRows) {
      throw new SpecVetError('fits-format', `${this.table.nRows} table rows for ${totalTiles} tiles`, this.where);
    }
    const tileIdx = new Array<number>(naxes).fill(0);
    for (let t = 0; t < totalTiles; t++) {
      // Tile extent along each axis (the last tile of an axis may be short).
      const lo = tileIdx.map((k, i) => k * this.tiles[i]);
      const len = lo.map((l, i) => Math.min(this.tiles[i], this.shape[i] - l));
      const tileElems = len.reduce((a, b) => a * b, 1);
      const packed = this.table.heapBytes(col, t);
      let tile: Uint8Array;
      try {
        tile = packed.length === 0 ? new Uint8Array(0) : new Uint8Array(gunzipSync(packed, { maxOutputLength: tileElems * size + 1 }));
      } catch (err) {
        throw new SpecVetError('gzip', `tile ${t} does not decompress: ${err instanceof Error ? err.message : String(err)}`, this.where);
      }
      if (tile.length !== tileElems * size) {
        throw new SpecVetError('fits-format', `tile ${t} holds ${tile.length} bytes, expected ${tileElems * size}`, this.where);
      }
      if (this.algorithm === 'GZIP_2') tile = unshuffle(tile, size);
      // Copy the tile's rows (runs along axis 1) into their places in the image, still big-endian.
      const run = len[0] * size;
      const nRuns = tileElems / len[0];
      const pos = lo.slice();
      for (let k = 0; k < nRuns; k++) {
        let rem = k;
        for (let i = 1; i < naxes; i++) {
          pos[i] = lo[i] + (rem % len[i]);
          rem = Math.floor(rem / len[i]);
        }
        let elem = 0;
        let stride = 1;
        for (let i = 0; i < naxes; i++) {
          elem += pos[i] * stride;
          stride *= this.shape[i];
        }
        out.set(tile.subarray(k * run, (k + 1) * run), elem * size);
      }
      for (let i = 0; i < naxes; i++) {
        if (++tileIdx[i] < nTiles[i]) break;
        tileIdx[i] = 0;
      }
    }
    this.decoded = swapInPlace(out, this.length, this.kind);
    return this.decoded;
  }
}

/** GZIP_2 stores the most significant bytes of all values first, then the next, ... */
function unshuffle(b: Uint8Array, size: number): Uint8Array {
  if (size === 1) return b;
  const n = b.length / size;
  const out = new Uint8Array(b.length);
  for (let j = 0; j < size; j++) for (let i = 0; i < n; i++) out[i * size + j] = b[j * n + i];
  return out;
}

export function compressedImageFromTable(header: FitsHeader, table: FitsTable, where: string): FitsImage {
  const algorithm = (header.string('ZCMPTYPE') ?? '').trim().toUpperCase();
  if (algorithm === 'NOCOMPRESS' || (algorithm !== 'GZIP_1' && algorithm !== 'GZIP_2')) {
    throw new SpecVetError('fits-unsupported', `tile compression ${algorithm || '(none)'} is not decoded`, where);
  }
  const bitpix = intKey(header, 'ZBITPIX', where) ?? 0;
  if (!(bitpix in BITPIX_KIND)) throw new SpecVetError('fits-format', `ZBITPIX ${bitpix} is not valid`, where);
  if (bitpix < 0 && (table.has('ZSCALE') || table.has('ZZERO') || header.has('ZQUANTIZ') && header.string('ZQUANTIZ')?.trim() !== 'NONE')) {
    throw new SpecVetError('fits-unsupported', 'quantised floating-point tiles are not decoded', where);
  }
  const naxis = intKey(header, 'ZNAXIS', where) ?? 0;
  if (naxis < 1 || naxis > 999) throw new SpecVetError('fits-format', `ZNAXIS must be 1…999, got ${naxis}`, where);
  const shape: number[] = [];
  const tiles: number[] = [];
  let elements = 1;
  for (let i = 1; i <= naxis; i++) {
    const n = intKey(header, `ZNAXIS${i}`, where) ?? -1;
    if (n < 1) throw new SpecVetError('fits-format', `ZNAXIS${i} must be a positive integer`, where);
    elements *= n;
    if (elements > MAX_ELEMENTS) throw new SpecVetError('fits-limit', `compressed image of more than ${MAX_ELEMENTS} elements`, where);
    const t = intKey(header, `ZTILE${i}`, where) ?? (i === 1 ? n : 1);
    if (t < 1) throw new SpecVetError('fits-format', `ZTILE${i} must be a positive integer`, where);
    shape.push(n);
    tiles.push(Math.min(t, n));
  }
  return new CompressedImage(bitpix, shape, tiles, algorithm, table, header, where);
}
