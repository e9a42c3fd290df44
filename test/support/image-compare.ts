// Image comparison for the renderer's reference tests: pad both images to the same size with white
// and take the smallest mean absolute RGB difference (0–255) over shifts within ±maxShift px.
import { PNG } from 'pngjs';

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel. */
  data: Uint8Array;
}

export function decodePng(bytes: Uint8Array): DecodedImage {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: png.data };
}

/** RGB of (x, y) composited over white; outside the image is white. */
function rgb(img: DecodedImage, x: number, y: number, c: number): number {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return 255;
  const i = (y * img.width + x) * 4;
  const a = img.data[i + 3] / 255;
  return img.data[i + c] * a + 255 * (1 - a);
}

/** Mean |a − b| over RGB with b shifted by (dx, dy), over the union canvas. */
export function meanAbsDiff(a: DecodedImage, b: DecodedImage, dx = 0, dy = 0): number {
  const w = Math.max(a.width, b.width);
  const h = Math.max(a.height, b.height);
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(rgb(a, x, y, c) - rgb(b, x - dx, y - dy, c));
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
