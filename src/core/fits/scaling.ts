// BSCALE/BZERO (images) and TSCALn/TZEROn (table columns): physical = raw × scale + zero.
// The standard's unsigned conventions map to unsigned typed arrays exactly; any other scaling
// gives floats, with BLANK/TNULL values as NaN.
import type { NumericKind, RawArray } from './endian';

export type ScaledArray =
  | RawArray
  | Int8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** The unsigned-offset zero for each integer kind (§5.2.5). */
const UNSIGNED_ZERO: Partial<Record<NumericKind, number>> = { u8: -128, i16: 32768, i32: 2147483648, i64: 9223372036854775808 };

export function isUnsignedConvention(kind: NumericKind, scale: number, zero: number): boolean {
  return scale === 1 && UNSIGNED_ZERO[kind] !== undefined && zero === UNSIGNED_ZERO[kind];
}

/** Element type name after scaling, for listings ("uint16", "float32", ...). */
export function scaledTypeName(kind: NumericKind, scale: number, zero: number): string {
  if (scale === 1 && zero === 0) return { u8: 'uint8', i16: 'int16', i32: 'int32', i64: 'int64', f32: 'float32', f64: 'float64' }[kind];
  if (isUnsignedConvention(kind, scale, zero)) return { u8: 'int8', i16: 'uint16', i32: 'uint32', i64: 'uint64', f32: '', f64: '' }[kind];
  return floatKindFor(kind) === 'f32' ? 'float32' : 'float64';
}

function floatKindFor(kind: NumericKind): 'f32' | 'f64' {
  return kind === 'u8' || kind === 'i16' || kind === 'f32' ? 'f32' : 'f64';
}

/**
 * Applies scale/zero to a freshly decoded raw array (which it may reuse). `blank` is the integer
 * null value (BLANK/TNULLn) or null.
 */
export function applyScaling(raw: RawArray, kind: NumericKind, scale: number, zero: number, blank: number | bigint | null): ScaledArray {
  if (scale === 1 && zero === 0) return raw;
  if (isUnsignedConvention(kind, scale, zero)) {
    // Flipping the sign bit of the stored two's-complement value gives the offset value exactly.
    switch (kind) {
      case 'u8': {
        const u = raw as Uint8Array;
        for (let i = 0; i < u.length; i++) u[i] ^= 0x80;
        return new Int8Array(u.buffer, u.byteOffset, u.length);
      }
      case 'i16': {
        const out = new Uint16Array(raw.buffer, raw.byteOffset, raw.length);
        for (let i = 0; i < out.length; i++) out[i] ^= 0x8000;
        return out;
      }
      case 'i32': {
        const out = new Uint32Array(raw.buffer, raw.byteOffset, raw.length);
        for (let i = 0; i < out.length; i++) out[i] = (out[i] ^ 0x80000000) >>> 0;
        return out;
      }
      case 'i64': {
        const out = new BigUint64Array(raw.buffer, raw.byteOffset, raw.length);
        const bit = 1n << 63n;
        for (let i = 0; i < out.length; i++) out[i] ^= bit;
        return out;
      }
    }
  }
  const fk = floatKindFor(kind);
  const out = fk === 'f32' ? new Float32Array(raw.length) : new Float64Array(raw.length);
  if (raw instanceof BigInt64Array) {
    const b = blank === null ? null : BigInt(blank);
    for (let i = 0; i < raw.length; i++) out[i] = b !== null && raw[i] === b ? NaN : Number(raw[i]) * scale + zero;
  } else {
    const r = raw as Exclude<RawArray, BigInt64Array>;
    const b = blank === null || kind === 'f32' || kind === 'f64' ? null : Number(blank);
    for (let i = 0; i < r.length; i++) out[i] = b !== null && r[i] === b ? NaN : r[i] * scale + zero;
  }
  return out;
}

/** Header value as a number for scale/zero keywords (bigint BZERO = 2^63 included). */
export function numericValue(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return fallback;
}
