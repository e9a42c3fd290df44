// The renderer the Spec-o3 models were trained on, in plain Node: spectrum arrays (+ optional
// wavelength window) → the recipe's figure as an SVG scene → PNG via resvg. The SVG is returned too,
// so the webview can show exactly the image the model saw.
import { Resvg } from '@resvg/resvg-js';
import { SpecVetError, errorMessage } from '../errors';
import { buildFigure, prepareData } from './figure';
import { encodeRgbaPng } from './png';

export interface RenderInput {
  wavelength: ArrayLike<number>;
  flux: ArrayLike<number>;
}

export interface RenderOptions {
  /** [min, max] in Å of the plotted wavelengths; null/absent renders the overview. */
  window?: [number, number] | null;
  /** Figure title; the recipe's default is "Spectrum". */
  title?: string;
}

export interface RenderedImage {
  png: Uint8Array;
  svg: string;
  width: number;
  height: number;
  /** Points plotted after cleaning and cutting to the window. */
  nPoints: number;
}

/** The recipe's default title. */
export const DEFAULT_TITLE = 'Spectrum';

/** Builds the SVG scene only (no rasterisation). */
export function renderSpectrumSvg(input: RenderInput, opts: RenderOptions = {}): { svg: string; width: number; height: number; nPoints: number } {
  const window = opts.window ?? null;
  if (window && !(Number.isFinite(window[0]) && Number.isFinite(window[1]) && window[0] < window[1])) {
    throw new SpecVetError('render', `wavelength window must be two finite numbers with min < max, got [${window[0]}, ${window[1]}]`);
  }
  if (input.wavelength.length !== input.flux.length) {
    throw new SpecVetError('render', `wavelength and flux differ in length (${input.wavelength.length} vs ${input.flux.length})`);
  }
  const data = prepareData(input.wavelength, input.flux, window);
  return buildFigure(data, { window, title: opts.title ?? DEFAULT_TITLE });
}

export function renderSpectrumImage(input: RenderInput, opts: RenderOptions = {}): RenderedImage {
  const scene = renderSpectrumSvg(input, opts);
  let png: Uint8Array;
  try {
    // Text is already outlines: no font database needed, nothing depends on installed fonts.
    const r = new Resvg(scene.svg, { font: { loadSystemFonts: false }, shapeRendering: 2, background: '#ffffff' });
    const pixmap = r.render();
    png = encodeRgbaPng(pixmap.pixels, pixmap.width, pixmap.height);
  } catch (err) {
    throw new SpecVetError('render', `rasterising the ${scene.width}×${scene.height} figure failed: ${errorMessage(err)}`);
  }
  return { png, svg: scene.svg, width: scene.width, height: scene.height, nPoints: scene.nPoints };
}
