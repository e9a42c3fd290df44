// An image's data URL and, beside it, the same URL as bytes for the request body. Every request
// carries the trajectory's earlier images, so endpoint.ts splices each image's bytes into the body
// instead of JSON-escaping and encoding the string again; a URL made here is known to be base64
// ASCII, so its bytes are written once, now, rather than found by scanning and copying the string.
import { PNG_DATA_URL_PREFIX } from '../trace/schema';

/** image_url object → its URL as bytes (null: not plain ASCII that JSON leaves as it is; sent inline). */
export const imageUrlBytes = new WeakMap<object, Buffer | null>();

/** The PNG as a data URL. */
export function pngDataUrl(png: Uint8Array): string {
  return PNG_DATA_URL_PREFIX + base64(png);
}

/** An `image_url` object for the PNG, its bytes registered for the request body (frozen, so they stay its bytes). */
export function pngImageUrl(png: Uint8Array): { url: string } {
  const encoded = base64(png);
  const imageUrl = Object.freeze({ url: PNG_DATA_URL_PREFIX + encoded });
  // Written from the two pieces: bytes from the joined URL would first flatten it into one more 50 KB string.
  const bytes = Buffer.allocUnsafe(PNG_DATA_URL_PREFIX.length + encoded.length);
  bytes.write(PNG_DATA_URL_PREFIX, 0, 'latin1');
  bytes.write(encoded, PNG_DATA_URL_PREFIX.length, 'latin1');
  imageUrlBytes.set(imageUrl, bytes);
  return imageUrl;
}

function base64(png: Uint8Array): string {
  return Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64');
}
