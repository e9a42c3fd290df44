// What a guide makes the model see on a given spectrum: the first request exactly as the agent loop
// builds it (system turn, overview image, task text, tool list), with sizes. Shown by the editor's
// Preview Prompt; uses the loop's own builders so the preview cannot drift from what is sent.
import { ZOOM_TOOL_DEFINITION } from '../agent/loop';
import { ENDPOINT_DEFAULTS } from '../agent/endpoint';
import { initialMessages } from '../agent/prompt';
import { renderOverview } from '../render/tool';
import type { Spectrum } from '../spectrum/model';
import type { ChatMessage } from '../trace/schema';
import type { Guide } from './guide';

export interface PreviewPart {
  role: 'system' | 'user' | 'tools';
  kind: 'text' | 'image';
  /** Text parts: the text. Image parts: the data URL. */
  text?: string;
  dataUrl?: string;
  width?: number;
  height?: number;
  /** UTF-8 bytes of the text, or PNG bytes of the image. */
  bytes: number;
  /** Estimated prompt tokens (Qwen2.5-VL: 28×28-pixel patches per image token; ≈3.8 characters per text token). */
  tokens: number;
}

export interface PromptPreview {
  guideId: string;
  guideVersion: string;
  spectrumId: string;
  /** The first request's messages, exactly as the loop sends them. */
  messages: ChatMessage[];
  parts: PreviewPart[];
  /** Size of the first request's JSON body (hermes protocol, as sent). */
  requestBytes: number;
  totals: { textBytes: number; imageBytes: number; textTokens: number; imageTokens: number; tokens: number };
  /** Frame the overview's wavelengths are drawn in. */
  frame: 'rest' | 'observed';
}

const PATCH = 28;
const MIN_PIXELS = 56 * 56;
const MAX_PIXELS = 28 * 28 * 1280 * 16;

/** Image tokens of Qwen2.5-VL for a w×h image: its smart_resize to multiples of 28, one token per 28×28 patch, plus the two vision delimiters. */
export function qwenImageTokens(width: number, height: number): number {
  let h = Math.max(PATCH, Math.round(height / PATCH) * PATCH);
  let w = Math.max(PATCH, Math.round(width / PATCH) * PATCH);
  if (h * w > MAX_PIXELS) {
    const beta = Math.sqrt((height * width) / MAX_PIXELS);
    h = Math.floor(height / beta / PATCH) * PATCH;
    w = Math.floor(width / beta / PATCH) * PATCH;
  } else if (h * w < MIN_PIXELS) {
    const beta = Math.sqrt(MIN_PIXELS / (height * width));
    h = Math.ceil((height * beta) / PATCH) * PATCH;
    w = Math.ceil((width * beta) / PATCH) * PATCH;
  }
  return (h / PATCH) * (w / PATCH) + 2;
}

/** A rough text-token estimate for English prompt text on a Qwen2 tokenizer. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 3.8);
}

export function buildPromptPreview(guide: Guide, spectrum: Spectrum, opts: { observedFrame?: boolean; model?: string } = {}): PromptPreview {
  const overview = renderOverview(spectrum, { observedFrame: opts.observedFrame });
  const messages = initialMessages(guide, overview.png);
  const parts: PreviewPart[] = [];
  const text = (role: PreviewPart['role'], t: string) => parts.push({ role, kind: 'text', text: t, bytes: Buffer.byteLength(t, 'utf8'), tokens: estimateTextTokens(t) });
  for (const m of messages) {
    if (m.role !== 'system' && m.role !== 'user') continue;
    if (typeof m.content === 'string') text(m.role, m.content);
    else
      for (const p of m.content) {
        if (p.type === 'text') text(m.role, p.text);
        else parts.push({ role: m.role, kind: 'image', dataUrl: p.image_url.url, width: overview.width, height: overview.height, bytes: overview.png.byteLength, tokens: qwenImageTokens(overview.width, overview.height) });
      }
  }
  // The chat template writes the tool list into the system turn.
  text('tools', JSON.stringify(ZOOM_TOOL_DEFINITION));
  const body = { model: opts.model ?? 'spec-o3', messages, tools: [ZOOM_TOOL_DEFINITION], tool_choice: 'none', stream: ENDPOINT_DEFAULTS.stream };
  const sum = (k: 'text' | 'image', f: 'bytes' | 'tokens') => parts.filter((p) => p.kind === k).reduce((s, p) => s + p[f], 0);
  const totals = { textBytes: sum('text', 'bytes'), imageBytes: sum('image', 'bytes'), textTokens: sum('text', 'tokens'), imageTokens: sum('image', 'tokens'), tokens: 0 };
  totals.tokens = totals.textTokens + totals.imageTokens;
  return {
    guideId: guide.id,
    guideVersion: guide.version,
    spectrumId: spectrum.meta.id,
    messages,
    parts,
    requestBytes: Buffer.byteLength(JSON.stringify(body), 'utf8'),
    totals,
    frame: overview.frame,
  };
}
