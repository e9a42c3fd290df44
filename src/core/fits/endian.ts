// Big-endian FITS numbers → native typed arrays. Only the requested slice is copied and swapped
// (Buffer.swapN is native and fast); the file's bytes are never copied whole.

export type NumericKind = 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64';

export type RawArray = Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export const KIND_SIZE: Record<NumericKind, number> = { u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 };

/** Copies `count` big-endian values of `kind` starting at byte `offset` into a fresh native array. */
export function readBigEndian(bytes: Uint8Array, offset: number, count: number, kind: NumericKind): RawArray {
  const size = KIND_SIZE[kind];
  // An explicit copy: Buffer#slice (Node) is a view, and swapping it would corrupt the file bytes.
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(offset, offset + count * size));
  return swapInPlace(copy, count, kind);
}

/** Views `copy` (a fresh, 0-offset buffer holding big-endian values) as a native array after swapping. */
export function swapInPlace(copy: Uint8Array, count: number, kind: NumericKind): RawArray {
  const buf = Buffer.from(copy.buffer, copy.byteOffset, count * KIND_SIZE[kind]);
  switch (kind) {
    case 'u8':
      return new Uint8Array(copy.buffer, copy.byteOffset, count);
    case 'i16':
      buf.swap16();
      return new Int16Array(copy.buffer, copy.byteOffset, count);
    case 'i32':
      buf.swap32();
      return new Int32Array(copy.buffer, copy.byteOffset, count);
    case 'f32':
      buf.swap32();
      return new Float32Array(copy.buffer, copy.byteOffset, count);
    case 'i64':
      buf.swap64();
      return new BigInt64Array(copy.buffer, copy.byteOffset, count);
    case 'f64':
      buf.swap64();
      return new Float64Array(copy.buffer, copy.byteOffset, count);
  }
}

/** Copies `nRows` strided chunks of `chunk` bytes (row stride `stride`) into one contiguous fresh buffer. */
export function gatherStrided(bytes: Uint8Array, offset: number, stride: number, nRows: number, chunk: number): Uint8Array {
  const out = new Uint8Array(nRows * chunk);
  if (chunk === stride) {
    out.set(bytes.subarray(offset, offset + nRows * chunk));
    return out;
  }
  for (let r = 0; r < nRows; r++) {
    const s = offset + r * stride;
    out.set(bytes.subarray(s, s + chunk), r * chunk);
  }
  return out;
}
