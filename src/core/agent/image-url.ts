// An image's data URL and, beside it, the same URL as bytes for the request body. Every request
// carries the trajectory's earlier images, so endpoint.ts splices each image's bytes into the body
// instead of JSON-escaping and encoding the string again; a URL made here is known to be base64
// ASCII, so its bytes are written once, now, rather than found by scanning and copying the string.

const PNG_DATA_URL_PREFIX = 'data:image/png;base64,';

/** image_url object → its URL as bytes (null: not plain ASCII that JSON leaves as it is; sent inline). */
export const imageUrlBytes = new WeakMap<object, Buffer | null>();

/** The PNG as a data URL. */
export function pngDataUrl(png: Uint8Array): string {
  return PNG_DATA_URL_PREFIX + Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64');
}

/** An `image_url` object for the PNG, its bytes registered for the request body (frozen, so they stay its bytes). */
export function pngImageUrl(png: Uint8Array): { url: string } {
  const base64 = Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64');
  const imageUrl = Object.freeze({ url: PNG_DATA_URL_PREFIX + base64 });
  const bytes = Buffer.allocUnsafe(PNG_DATA_URL_PREFIX.length + base64.length);
  bytes.write(PNG_DATA_URL_PREFIX, 0, 'latin1');
  bytes.write(base64, PNG_DATA_URL_PREFIX.length, 'latin1');
  imageUrlBytes.set(imageUrl, bytes);
  return imageUrl;
}
