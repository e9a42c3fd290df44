// Every text the model reads that is not the tool's own output lives here, in the training format
// of the Spec-o3 data (protocol page §1, §3, §6). Changing a character here changes what the model
// sees; keep it in step with the published prompts.
import type { Guide } from '../guides/guide';
import type { ChatMessage, ContentPart } from '../trace/schema';
import { pngImageUrl } from './image-url';

/** The system message of the training data; the chat template appends the tools section itself. */
export const SYSTEM_PROMPT = 'You are a helpful assistant.';

/**
 * The task text after the overview image. In the training data the user text is "<image>\n" followed
 * by this; the image part stands for the placeholder, so the text part starts with the newline that
 * followed it.
 */
export function buildTaskText(guide: Guide): string {
  return (
    `\nAnalyze the provided spectrum to determine if it is a **${guide.target}**.\n\n` +
    `${guide.promptText}\n\n` +
    ANSWER_INSTRUCTIONS
  );
}

/** How to reason and answer, as the training prompts put it (one think block per turn, one tool call or the boxed answer). */
export const ANSWER_INSTRUCTIONS =
  'You may use the spectral_visualization_tool to zoom into specific wavelength ranges and examine the features closely. ' +
  'In every turn, first reason inside <think> </think>, then either call the tool once or give your final answer. ' +
  'Put the final answer inside <answer> </answer> as \\boxed{YES} or \\boxed{NO}.';

export function imagePart(png: Uint8Array): ContentPart {
  return { type: 'image_url', image_url: pngImageUrl(png) };
}

/** System + first user turn: overview image, then the task text. */
export function initialMessages(guide: Guide, overviewPng: Uint8Array): ChatMessage[] {
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: [imagePart(overviewPng), { type: 'text', text: buildTaskText(guide) }] },
  ];
}

/**
 * hermes: a tool result as the chat template renders it, built as a user turn:
 * "<tool_response>\n" + image + result text + "\n</tool_response>". Without an image (rejected call)
 * the text follows the opening tag directly.
 */
export function hermesToolResponse(text: string, png: Uint8Array | null): ChatMessage {
  const content: ContentPart[] = png
    ? [{ type: 'text', text: '<tool_response>\n' }, imagePart(png), { type: 'text', text: `${text}\n</tool_response>` }]
    : [{ type: 'text', text: `<tool_response>\n${text}\n</tool_response>` }];
  return { role: 'user', content };
}

/** native: the text result in a `tool` message, then the image in a user message (tool messages cannot carry images). */
export function nativeToolResponse(toolCallId: string, text: string, png: Uint8Array | null): ChatMessage[] {
  const out: ChatMessage[] = [{ role: 'tool', tool_call_id: toolCallId, content: text }];
  if (png) out.push({ role: 'user', content: [imagePart(png), { type: 'text', text: `Image returned by spectral_visualization_tool: ${text}` }] });
  return out;
}

/** Text returned to the model when its call could not be run at all (not the tool's own range errors, which the tool words). */
export function toolCallErrorText(reason: string, toolName: string): string {
  return `Error: ${reason}. Call ${toolName} with {"wavelength_range": [min_wavelength, max_wavelength], "label": "..."}.`;
}
