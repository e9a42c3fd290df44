// Image comparison for the renderer's reference tests: pad both images to the same size with white
// and take the smallest mean absolute RGB difference (0–255) over shifts within ±maxShift px.
import { PNG } from 'pngjs';

export interface DecodedImage {
  width: number;
  height: number;
  /** RGB composited over white, 3 bytes a pixel. */
  rgb: Uint8Array;
}

export function decodePng(bytes: Uint8Array): DecodedImage {
  const png = PNG.sync.read(Buffer.from(bytes));
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, j = 0; i < png.data.length; i += 4, j += 3) {
    const a = png.data[i + 3] / 255;
    for (let c = 0; c < 3; c++) rgb[j + c] = Math.round(png.data[i + c] * a + 255 * (1 - a));
  }
  return { width: png.width, height: png.height, rgb };
}

/** Mean |a − b| over RGB with b shifted by (dx, dy), over the union canvas (outside = white). */
export function meanAbsDiff(a: DecodedImage, b: DecodedImage, dx = 0, dy = 0): number {
  const w = Math.max(a.width, b.width);
  const h = Math.max(a.height, b.height);
  const at = (img: DecodedImage, x: number, y: number, c: number): number =>
    x < 0 || y < 0 || x >= img.width || y >= img.height ? 255 : img.rgb[(y * img.width + x) * 3 + c];
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(at(a, x, y, c) - at(b, x - dx, y - dy, c));
    }
  }
  return sum / (w * h * 3);
}

/** Best alignment within ±maxShift px: the smallest mean difference and the shift that gave it. */
export function bestAlignedDiff(a: DecodedImage, b: DecodedImage, maxShift = 2): { diff: number; dx: number; dy: number } {
  let best = { diff: Infinity, dx: 0, dy: 0 };
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      const diff = meanAbsDiff(a, b, dx, dy);
      if (diff < best.diff) best = { diff, dx, dy };
    }
  }
  return best;
}
