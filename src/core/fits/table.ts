// Binary tables (§7.3): row layout from TFORMn, columns read lazily for any row range.
// Variable-length (P/Q heap descriptor) and complex columns are listed as unsupported, not fatal.
import { SpecVetError } from '../errors';
import { FitsHeader, intKey } from './header';
import { NumericKind, gatherStrided, swapInPlace } from './endian';
import { ScaledArray, applyScaling, numericValue, scaledTypeName } from './scaling';

export interface FitsColumn {
  index: number;
  name: string;
  /** TFORMn as written, e.g. "3909E", "6A", "1PB(2751)". */
  tform: string;
  /** Type letter: L X B I J K A E D C M P Q. */
  type: string;
  /** Elements per row (characters for A, bits for X). */
  repeat: number;
  /** Byte offset inside a row and width in bytes. */
  offset: number;
  width: number;
  /** TDIMn axes (fastest first) when given. */
  dims: number[] | null;
  unit: string;
  scale: number;
  zero: number;
  nullValue: number | bigint | null;
  /** Element type name after scaling ('float32', 'int64', 'uint64', 'string', 'bool', 'bits', ...). */
  typeName: string;
  /** Set when the column's values are not decoded (heap descriptors, complex numbers). */
  unsupported: string | null;
}

/** Values of one column over a row range: flattened typed arrays for numbers, one string per row for A. */
export type ColumnValues = ScaledArray | string[] | Array<boolean | null>;

const TYPE_KIND: Record<string, NumericKind> = { B: 'u8', I: 'i16', J: 'i32', K: 'i64', E: 'f32', D: 'f64' };
const TYPE_SIZE: Record<string, number> = { L: 1, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8, C: 8, M: 16, P: 8, Q: 16 };

export class FitsTable {
  readonly columns: FitsColumn[];
  private readonly byName = new Map<string, FitsColumn>();

  constructor(
    readonly nRows: number,
    readonly rowBytes: number,
    columns: FitsColumn[],
    private readonly bytes: Uint8Array,
    private readonly dataOffset: number,
    /** Byte offset of the heap (for P/Q descriptors) relative to the data start, and its size. */
    readonly heapOffset: number,
    readonly heapLength: number,
    readonly where: string,
  ) {
    this.columns = columns;
    for (const c of columns) {
      const key = c.name.trim().toUpperCase();
      if (key && !this.byName.has(key)) this.byName.set(key, c);
    }
  }

  /** Column by name, case-insensitive; undefined when absent. */
  find(name: string): FitsColumn | undefined {
    return this.byName.get(name.toUpperCase());
  }

  has(name: string): boolean {
    return this.byName.has(name.toUpperCase());
  }

  column(name: string, firstRow = 0, rowCount = this.nRows - firstRow): ColumnValues {
    const col = this.find(name);
    if (!col) throw new SpecVetError('fits-format', `no column ${name}`, this.where);
    return this.read(col, firstRow, rowCount);
  }

  read(col: FitsColumn, firstRow = 0, rowCount = this.nRows - firstRow): ColumnValues {
    if (col.unsupported) throw new SpecVetError('fits-unsupported', `column ${col.name} (${col.tform}) is not decoded: ${col.unsupported}`, this.where);
    if (!Number.isInteger(firstRow) || !Number.isInteger(rowCount) || firstRow < 0 || rowCount < 0 || firstRow + rowCount > this.nRows) {
      throw new SpecVetError('fits-format', `rows ${firstRow}+${rowCount} outside the table's ${this.nRows} rows`, this.where);
    }
    const start = this.dataOffset + firstRow * this.rowBytes + col.offset;
    const chunk = gatherStrided(this.bytes, start, this.rowBytes, rowCount, col.width);
    switch (col.type) {
      case 'A': {
        const out: string[] = new Array(rowCount);
        for (let r = 0; r < rowCount; r++) out[r] = latin1(chunk, r * col.width, col.width);
        return out;
      }
      case 'L': {
        const out: Array<boolean | null> = new Array(chunk.length);
        for (let i = 0; i < chunk.length; i++) out[i] = chunk[i] === 0x54 ? true : chunk[i] === 0x46 ? false : null;
        return out;
      }
      case 'X': {
        const out = new Uint8Array(rowCount * col.repeat);
        for (let r = 0; r < rowCount; r++) {
          for (let b = 0; b < col.repeat; b++) out[r * col.repeat + b] = (chunk[r * col.width + (b >> 3)] >> (7 - (b & 7))) & 1;
        }
        return out;
      }
      default: {
        const kind = TYPE_KIND[col.type];
        const raw = swapInPlace(chunk, rowCount * col.repeat, kind);
        return applyScaling(raw, kind, col.scale, col.zero, col.nullValue);
      }
    }
  }

  /** One cell: a scalar for repeat-1 numeric/logical columns, the string for A, else the row's values. */
  value(name: string, row: number): number | bigint | string | boolean | null | ColumnValues {
    const col = this.find(name);
    if (!col) throw new SpecVetError('fits-format', `no column ${name}`, this.where);
    const v = this.read(col, row, 1);
    if (col.type === 'A') return (v as string[])[0];
    if (col.repeat === 1) return (v as ArrayLike<number | bigint | boolean | null>)[0];
    return v;
  }

  /** Heap bytes of a P/Q descriptor cell (used by tile-compressed images). */
  heapBytes(col: FitsColumn, row: number): Uint8Array {
    if (col.type !== 'P' && col.type !== 'Q') throw new SpecVetError('fits-format', `column ${col.name} is not a heap descriptor`, this.where);
    if (row < 0 || row >= this.nRows) throw new SpecVetError('fits-format', `row ${row} outside the table's ${this.nRows} rows`, this.where);
    const p = this.dataOffset + row * this.rowBytes + col.offset;
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset);
    let n: number;
    let off: number;
    if (col.type === 'P') {
      n = dv.getInt32(p);
      off = dv.getInt32(p + 4);
    } else {
      n = Number(dv.getBigInt64(p));
      off = Number(dv.getBigInt64(p + 8));
    }
    const elemSize = TYPE_SIZE[col.tform.replace(/^\d*[PQ]/, '')[0] ?? 'B'] ?? 1;
    const len = n * elemSize;
    if (n < 0 || off < 0 || off + len > this.heapLength) {
      throw new SpecVetError('fits-truncated', `heap descriptor of row ${row} points outside the heap (${off}+${len} of ${this.heapLength} bytes)`, this.where);
    }
    const s = this.dataOffset + this.heapOffset + off;
    return this.bytes.subarray(s, s + len);
  }
}

function latin1(b: Uint8Array, start: number, len: number): string {
  let end = start + len;
  // A string ends at the first NUL (§7.3.3.1); trailing blanks are not significant.
  for (let i = start; i < end; i++) if (b[i] === 0) { end = i; break; }
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s.replace(/ +$/, '');
}

const TFORM_RE = /^\s*(\d*)([LXBIJKAEDCMPQ])(.*)$/;

export function tableFromHeader(header: FitsHeader, bytes: Uint8Array, dataOffset: number, dataLength: number, where: string): FitsTable {
  const rowBytes = intKey(header, 'NAXIS1', where) ?? 0;
  const nRows = intKey(header, 'NAXIS2', where) ?? 0;
  const tfields = intKey(header, 'TFIELDS', where) ?? 0;
  if (tfields < 0 || tfields > 999) throw new SpecVetError('fits-format', `TFIELDS must be 0…999, got ${tfields}`, where);
  const columns: FitsColumn[] = [];
  let offset = 0;
  for (let i = 1; i <= tfields; i++) {
    const tform = header.string(`TFORM${i}`);
    if (tform === null) throw new SpecVetError('fits-format', `TFORM${i} is missing`, where);
    const m = TFORM_RE.exec(tform);
    if (!m) throw new SpecVetError('fits-format', `TFORM${i} = '${tform}' is not a binary-table format`, where);
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    if (!Number.isSafeInteger(repeat) || repeat > rowBytes * 8 + 8) {
      throw new SpecVetError('fits-format', `TFORM${i} = '${tform}' repeats more than a row of ${rowBytes} bytes holds`, where);
    }
    const type = m[2];
    const width = type === 'X' ? Math.ceil(repeat / 8) : type === 'P' || type === 'Q' ? (repeat ? TYPE_SIZE[type] : 0) : repeat * TYPE_SIZE[type];
    const scale = numericValue(header.get(`TSCAL${i}`), 1);
    const zero = numericValue(header.get(`TZERO${i}`), 0);
    const tnull = header.get(`TNULL${i}`);
    let unsupported: string | null = null;
    if (type === 'P' || type === 'Q') unsupported = 'variable-length array in the heap';
    else if (type === 'C' || type === 'M') unsupported = 'complex numbers';
    const kind = TYPE_KIND[type];
    const typeName = kind ? scaledTypeName(kind, scale, zero) : type === 'A' ? 'string' : type === 'L' ? 'bool' : type === 'X' ? 'bits' : type === 'C' ? 'complex64' : type === 'M' ? 'complex128' : 'heap descriptor';
    columns.push({
      index: i - 1,
      name: (header.string(`TTYPE${i}`) ?? `COL${i}`).trim(),
      tform: tform.trim(),
      type,
      repeat,
      offset,
      width,
      dims: parseTdim(header.string(`TDIM${i}`)),
      unit: (header.string(`TUNIT${i}`) ?? '').trim(),
      scale,
      zero,
      nullValue: typeof tnull === 'number' || typeof tnull === 'bigint' ? tnull : null,
      typeName,
      unsupported,
    });
    offset += width;
  }
  if (offset > rowBytes) throw new SpecVetError('fits-format', `columns need ${offset} bytes per row but NAXIS1 is ${rowBytes}`, where);
  const tableBytes = rowBytes * nRows;
  if (tableBytes > dataLength) throw new SpecVetError('fits-truncated', `table of ${tableBytes} bytes exceeds its data of ${dataLength} bytes`, where);
  const theap = intKey(header, 'THEAP', where) ?? tableBytes;
  if (theap < tableBytes || theap > dataLength) throw new SpecVetError('fits-format', `THEAP ${theap} lies outside the data`, where);
  return new FitsTable(nRows, rowBytes, columns, bytes, dataOffset, theap, dataLength - theap, where);
}

function parseTdim(s: string | null): number[] | null {
  if (!s) return null;
  const m = /^\s*\(([\d\s,]+)\)\s*$/.exec(s);
  if (!m) return null;
  const dims = m[1].split(',').map((x) => Number(x.trim()));
  return dims.every((d) => Number.isSafeInteger(d) && d >= 0) ? dims : null;
}
