// A small FITS writer for tests and benchmarks: synthetic headers, images and binary tables with
// exact control over every card (so tests can also write lying or malformed headers).

export type CardInput = string | [string, string | number | bigint | boolean | null, string?];

/** One 80-character card in fixed format; strings quoted with '' escapes, numbers right-aligned to column 30. */
export function card(keyword: string, value: string | number | bigint | boolean | null, comment?: string): string {
  let v: string;
  if (typeof value === 'string') v = `'${value.replace(/'/g, "''").padEnd(8)}'`.padEnd(20);
  else if (typeof value === 'boolean') v = (value ? 'T' : 'F').padStart(20);
  else if (value === null) v = ''.padStart(20);
  else if (typeof value === 'number' && !Number.isInteger(value)) v = value.toExponential().toUpperCase().padStart(20);
  else v = String(value).padStart(20);
  let text = `${keyword.padEnd(8)}= ${v}`;
  if (comment) text += ` / ${comment}`;
  return text.slice(0, 80).padEnd(80);
}

/** Header bytes: the cards (raw strings are padded/truncated to 80), END, blank fill to 2880. */
export function headerBytes(cards: CardInput[], opts: { end?: boolean } = {}): Uint8Array {
  const lines = cards.map((c) => (typeof c === 'string' ? c.slice(0, 80).padEnd(80) : card(c[0], c[1], c[2])));
  if (opts.end !== false) lines.push('END'.padEnd(80));
  const text = lines.join('');
  const len = Math.ceil(text.length / 2880) * 2880;
  return Buffer.from(text.padEnd(len), 'latin1');
}

export type NumericData = ArrayLike<number> | BigInt64Array | BigUint64Array | Array<number | bigint>;

/** Big-endian bytes of `values` as the given BITPIX type (raw stored values, no scaling). */
export function encodeBigEndian(bitpix: number, values: NumericData): Uint8Array {
  const n = values.length;
  const size = Math.abs(bitpix) / 8;
  // Fast path for the big arrays the benchmark writes: native copy then byte swap.
  if (bitpix === -32 && values instanceof Float32Array) return swapped(new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + n * 4)), 4);
  if (bitpix === -64 && values instanceof Float64Array) return swapped(new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + n * 8)), 8);
  if (bitpix === 32 && values instanceof Int32Array) return swapped(new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + n * 4)), 4);
  const out = new Uint8Array(n * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = (values as ArrayLike<number | bigint>)[i];
    switch (bitpix) {
      case 8: dv.setUint8(i, Number(v)); break;
      case 16: dv.setInt16(i * 2, Number(v)); break;
      case 32: dv.setInt32(i * 4, Number(v)); break;
      case 64: dv.setBigInt64(i * 8, BigInt(v)); break;
      case -32: dv.setFloat32(i * 4, Number(v)); break;
      case -64: dv.setFloat64(i * 8, Number(v)); break;
      default: throw new Error(`bad BITPIX ${bitpix}`);
    }
  }
  return out;
}

function swapped(b: Uint8Array, size: 4 | 8): Uint8Array {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  if (size === 4) buf.swap32();
  else buf.swap64();
  return b;
}

function padData(data: Uint8Array): Uint8Array {
  const len = Math.ceil(data.length / 2880) * 2880;
  if (len === data.length) return data;
  const out = new Uint8Array(len);
  out.set(data);
  return out;
}

export interface ImageSpec {
  primary?: boolean;
  bitpix: number;
  /** NAXIS1, NAXIS2, ... (NAXIS1 fastest). */
  shape: number[];
  data?: NumericData;
  /** Extra cards after the structural ones (BSCALE, BZERO, EXTNAME, ...). */
  cards?: CardInput[];
  /** Override structural cards entirely (for lying headers). */
  structural?: CardInput[];
}

export function imageHdu(spec: ImageSpec): Uint8Array {
  const structural: CardInput[] = spec.structural ?? [
    spec.primary !== false ? ['SIMPLE', true, 'conforms to FITS standard'] : ['XTENSION', 'IMAGE', 'image extension'],
    ['BITPIX', spec.bitpix],
    ['NAXIS', spec.shape.length],
    ...spec.shape.map((n, i): CardInput => [`NAXIS${i + 1}`, n]),
    ...(spec.primary !== false ? [['EXTEND', true] as CardInput] : [['PCOUNT', 0] as CardInput, ['GCOUNT', 1] as CardInput]),
  ];
  const head = headerBytes([...structural, ...(spec.cards ?? [])]);
  const data = spec.data ? padData(encodeBigEndian(spec.bitpix, spec.data)) : new Uint8Array(0);
  return concat([head, data]);
}

export interface ColumnSpec {
  name: string;
  /** TFORM, e.g. "1K", "3909E", "6A". */
  tform: string;
  /** Row-major flattened values; strings for A columns (one per row); booleans for L. */
  values: ArrayLike<number> | Array<bigint> | BigInt64Array | string[] | Array<boolean | null>;
  cards?: CardInput[];
}

const SIZES: Record<string, number> = { L: 1, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8 };

export function bintableHdu(spec: { nRows: number; columns: ColumnSpec[]; cards?: CardInput[] }): Uint8Array {
  const forms = spec.columns.map((c) => {
    const m = /^(\d*)([A-Z])/.exec(c.tform)!;
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    const type = m[2];
    const width = type === 'X' ? Math.ceil(repeat / 8) : repeat * SIZES[type];
    return { repeat, type, width };
  });
  const rowBytes = forms.reduce((a, f) => a + f.width, 0);
  const cards: CardInput[] = [
    ['XTENSION', 'BINTABLE', 'binary table extension'],
    ['BITPIX', 8],
    ['NAXIS', 2],
    ['NAXIS1', rowBytes],
    ['NAXIS2', spec.nRows],
    ['PCOUNT', 0],
    ['GCOUNT', 1],
    ['TFIELDS', spec.columns.length],
  ];
  spec.columns.forEach((c, i) => {
    cards.push([`TTYPE${i + 1}`, c.name], [`TFORM${i + 1}`, c.tform], ...(c.cards ?? []));
  });
  cards.push(...(spec.cards ?? []));
  const data = new Uint8Array(rowBytes * spec.nRows);
  let colOffset = 0;
  spec.columns.forEach((c, ci) => {
    const f = forms[ci];
    for (let r = 0; r < spec.nRows; r++) {
      const base = r * rowBytes + colOffset;
      if (f.type === 'A') {
        const s = String((c.values as string[])[r] ?? '');
        for (let k = 0; k < f.repeat; k++) data[base + k] = k < s.length ? s.charCodeAt(k) : 0x20;
      } else if (f.type === 'L') {
        for (let k = 0; k < f.repeat; k++) {
          const v = (c.values as Array<boolean | null>)[r * f.repeat + k];
          data[base + k] = v === true ? 0x54 : v === false ? 0x46 : 0;
        }
      } else if (f.type === 'X') {
        for (let k = 0; k < f.repeat; k++) if ((c.values as ArrayLike<number>)[r * f.repeat + k]) data[base + (k >> 3)] |= 0x80 >> (k & 7);
      } else {
        const bitpix = { B: 8, I: 16, J: 32, K: 64, E: -32, D: -64 }[f.type as 'B']!;
        const slice = Array.prototype.slice.call(c.values, r * f.repeat, (r + 1) * f.repeat) as number[];
        data.set(encodeBigEndian(bitpix, slice), base);
      }
    }
    colOffset += f.width;
  });
  return concat([headerBytes(cards), padData(data)]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
