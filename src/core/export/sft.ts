// Export of curated trajectories as supervised fine-tuning (cold-start) data in the LLaMA-Factory
// `sharegpt` layout used by Spec-o3 (protocol page §6): a JSON list of {conversations, images, tools}
// where each `<image>` placeholder consumes the next image path, the model's tool calls sit in its own
// (`gpt`) turns as `<tool_call>` text and tool results sit in `human` turns as `<tool_response>` text,
// so the loss masks them. Works on parsed traces, so the CLI and the trace editor share it.
//
// The conversation exported is the one the model saw in the hermes training format. Native-protocol
// traces (OpenAI tool_calls / tool messages) are rewritten into that same text; consecutive user turns
// (a forced zoom right after a tool result) are joined with a newline, because sharegpt alternates
// human and gpt strictly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../atomic-write';
import { SpecVetError, errorMessage } from '../errors';
import { ZOOM_TOOL_DEFINITION } from '../agent/loop';
import { extractAnswer, extractThinks, formatTextToolCall } from '../agent/parse';
import { pngDataUrl } from '../agent/image-url';
import { hermesToolResponse, nativeToolResponse } from '../agent/prompt';
import { PNG_DATA_URL_PREFIX, type ContentPart, type ChatMessage, type Trace } from '../trace/schema';

/** One turn of a sharegpt record. */
export interface SftTurn {
  from: 'system' | 'human' | 'gpt';
  value: string;
}

/** One record of the exported JSON list. `images` are paths relative to the dataset folder. */
export interface SftRecord {
  conversations: SftTurn[];
  images: string[];
  /** JSON text of the tool list, so LLaMA-Factory's Qwen template writes the same tools section vLLM does. */
  tools?: string;
}

/** The conversation in the hermes training format: alternating user / assistant after the system turn. */
export type TrainingMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: ContentPart[] }
  | { role: 'assistant'; content: string };

/** A record before its images are written: PNG bytes in placeholder order. */
export interface SftSample {
  conversations: SftTurn[];
  images: Uint8Array[];
  /** The training-format conversation the sample was made from. */
  messages: TrainingMessage[];
}

export const IMAGE_PLACEHOLDER = '<image>';
/** Other placeholders LLaMA-Factory treats as media slots: a text holding one would shift the images. */
const MEDIA_PLACEHOLDERS = ['<image>', '<video>', '<audio>'];
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The column mapping and role tags LLaMA-Factory needs to read the records (dataset_info.json entry). */
export function datasetInfoEntry(fileName: string, withTools: boolean): Record<string, unknown> {
  return {
    file_name: fileName,
    formatting: 'sharegpt',
    columns: { messages: 'conversations', images: 'images', ...(withTools ? { tools: 'tools' } : {}) },
    tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt', system_tag: 'system' },
  };
}

/** The tool list as LLaMA-Factory's `tools` column takes it (a JSON string). */
export const SFT_TOOLS_JSON = JSON.stringify([ZOOM_TOOL_DEFINITION]);

/**
 * The conversation the model saw, in the hermes training format. Throws SpecVetError('trace') saying
 * which message cannot be expressed that way.
 */
export function trainingConversation(trace: Trace): TrainingMessage[] {
  const where = `trace ${trace.id}`;
  const src = trace.messages;
  const out: TrainingMessage[] = [];
  for (let i = 0; i < src.length; i++) {
    const m = src[i];
    const at = `${where}, messages[${i}]`;
    if (m.role === 'system') {
      if (i !== 0) throw new SpecVetError('trace', 'a system message after the first turn', at);
      out.push({ role: 'system', content: m.content });
    } else if (m.role === 'assistant') {
      out.push({ role: 'assistant', content: assistantText(m, at) });
    } else if (m.role === 'tool') {
      // native: the tool's text, then (when the zoom succeeded) a user message carrying the image.
      const next = src[i + 1];
      const png = next && isNativeImageFollowUp(next, m.content) ? pngFromDataUrl((next.content as ContentPart[]).find((p) => p.type === 'image_url')!, `${where}, messages[${i + 1}]`) : null;
      if (png) i++;
      out.push(hermesToolResponse(m.content, png) as TrainingMessage);
    } else {
      out.push({ role: 'user', content: typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content.map((p) => ({ ...p })) });
    }
  }
  // sharegpt alternates strictly: join consecutive user turns (a forced zoom after a tool result).
  const joined: TrainingMessage[] = [];
  for (const m of out) {
    const prev = joined[joined.length - 1];
    if (m.role === 'user' && prev?.role === 'user') prev.content.push({ type: 'text', text: '\n' }, ...m.content);
    else if (m.role === 'assistant' && prev?.role === 'assistant') throw new SpecVetError('trace', 'two assistant turns in a row', where);
    else joined.push(m);
  }
  for (const m of joined) if (m.role === 'user') m.content = normaliseParts(m.content);
  return joined;
}

/** An assistant turn as text: a native `tool_calls` entry becomes the `<tool_call>` block the hermes template asks for. */
function assistantText(m: Extract<ChatMessage, { role: 'assistant' }>, at: string): string {
  const content = m.content ?? '';
  if (!m.tool_calls?.length) return content;
  if (m.tool_calls.length > 1) throw new SpecVetError('trace', `${m.tool_calls.length} tool calls in one turn (the training format has one)`, at);
  const call = m.tool_calls[0].function;
  let block: string;
  try {
    const args: unknown = JSON.parse(call.arguments);
    block = args && typeof args === 'object' && !Array.isArray(args) ? formatTextToolCall(call.name, args as Record<string, unknown>) : rawCallBlock(call.name, call.arguments);
  } catch {
    block = rawCallBlock(call.name, call.arguments);
  }
  return `${content}${content && !content.endsWith('\n') ? '\n' : ''}${block}`;
}

/** A call whose arguments were not a JSON object, written as the model produced them. */
function rawCallBlock(name: string, rawArguments: string): string {
  return `<tool_call>\n{"name": ${JSON.stringify(name)}, "arguments": ${rawArguments}}\n</tool_call>`;
}

/** Is `m` the user message the native protocol sends after a tool message, carrying that tool's image? */
function isNativeImageFollowUp(m: ChatMessage, toolText: string): boolean {
  if (m.role !== 'user' || !Array.isArray(m.content)) return false;
  const expected = nativeToolResponse('', toolText, new Uint8Array(0))[1];
  if (!expected || !Array.isArray(expected.content)) return false;
  const caption = expected.content.find((p) => p.type === 'text');
  const text = m.content.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('');
  return m.content.some((p) => p.type === 'image_url') && caption?.type === 'text' && text === caption.text;
}

/** Adjacent text parts joined, empty ones dropped: the shape a placeholder string parses back into. */
function normaliseParts(parts: ContentPart[]): ContentPart[] {
  const out: ContentPart[] = [];
  for (const p of parts) {
    if (p.type === 'text') {
      if (!p.text) continue;
      const last = out[out.length - 1];
      if (last?.type === 'text') out[out.length - 1] = { type: 'text', text: last.text + p.text };
      else out.push({ type: 'text', text: p.text });
    } else out.push({ type: 'image_url', image_url: { url: p.image_url.url } });
  }
  return out;
}

function pngFromDataUrl(part: ContentPart, at: string): Uint8Array {
  if (part.type !== 'image_url' || !part.image_url.url.startsWith(PNG_DATA_URL_PREFIX)) throw new SpecVetError('trace', 'an image that is not a data:image/png;base64 URL', at);
  const bytes = Buffer.from(part.image_url.url.slice(PNG_DATA_URL_PREFIX.length), 'base64');
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new SpecVetError('trace', 'an image whose data is not a PNG', at);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Training-format messages → sharegpt turns and the images in placeholder order. */
export function sampleFromConversation(messages: TrainingMessage[], where: string): SftSample {
  const conversations: SftTurn[] = [];
  const images: Uint8Array[] = [];
  messages.forEach((m, i) => {
    const at = `${where}, turn ${i}`;
    if (m.role === 'system') conversations.push({ from: 'system', value: checkedText(m.content, at) });
    else if (m.role === 'assistant') conversations.push({ from: 'gpt', value: checkedText(m.content, at) });
    else {
      let value = '';
      for (const p of m.content) {
        if (p.type === 'text') value += checkedText(p.text, at);
        else {
          images.push(pngFromDataUrl(p, at));
          value += IMAGE_PLACEHOLDER;
        }
      }
      conversations.push({ from: 'human', value });
    }
  });
  return { conversations, images, messages };
}

function checkedText(text: string, at: string): string {
  const hit = MEDIA_PLACEHOLDERS.find((p) => text.includes(p));
  if (hit) throw new SpecVetError('trace', `the text holds a literal ${hit}, which LLaMA-Factory would read as a media slot`, at);
  return text;
}

/** The sample of a trace with warnings about its quality as training data, or why it cannot be exported. */
export function buildSample(trace: Trace, opts: { approvedOnly?: boolean } = {}): { sample: SftSample; warnings: string[] } | { skip: string } {
  const curation = trace.curation?.status ?? 'unreviewed';
  if (curation === 'rejected') return { skip: `rejected by the curator${trace.curation?.note ? ` (${trace.curation.note})` : ''}` };
  if (opts.approvedOnly && curation !== 'approved') return { skip: `not approved (curation: ${curation})` };
  let messages: TrainingMessage[];
  try {
    messages = trainingConversation(trace);
  } catch (err) {
    return { skip: errorMessage(err) };
  }
  if (messages[0]?.role !== 'system') return { skip: 'the conversation does not start with a system message' };
  if (messages[1]?.role !== 'user') return { skip: 'the conversation has no first user turn' };
  const last = messages[messages.length - 1];
  if (last.role !== 'assistant') {
    return { skip: `it ends without a final answer from the model (status ${trace.status}); write the final answer in the trace editor first` };
  }
  const a = extractAnswer(last.content);
  if (!a.verdict) return { skip: 'the final turn holds no \\boxed{YES} or \\boxed{NO} answer' };
  if (!a.formatOk) return { skip: `the final answer is not in the trained format: ${a.formatErrors.join('; ')}` };
  const warnings: string[] = [];
  if (trace.label && trace.label.verdict !== a.verdict) warnings.push(`the final answer ${a.verdict} differs from the label ${trace.label.verdict}`);
  const assistant = messages.filter((m): m is Extract<TrainingMessage, { role: 'assistant' }> => m.role === 'assistant');
  const noThink = assistant.map((m, i) => (extractThinks(m.content).length ? 0 : i + 1)).filter((n) => n > 0);
  if (noThink.length) warnings.push(`assistant turn${noThink.length > 1 ? 's' : ''} ${noThink.join(', ')} ha${noThink.length > 1 ? 've' : 's'} no <think> reasoning (the model would learn to act without it)`);
  const badCalls = assistant.slice(0, -1).map((m, i) => ((m.content.match(/<tool_call>/g) ?? []).length === 1 ? 0 : i + 1)).filter((n) => n > 0);
  if (badCalls.length) warnings.push(`assistant turn${badCalls.length > 1 ? 's' : ''} ${badCalls.join(', ')} should hold exactly one <tool_call>`);
  const turns = assistant.length;
  if (turns > trace.endpoint.maxTurns) warnings.push(`${turns} assistant turns, more than the limit of ${trace.endpoint.maxTurns}`);
  try {
    return { sample: sampleFromConversation(messages, `trace ${trace.id}`), warnings };
  } catch (err) {
    return { skip: errorMessage(err) };
  }
}

/**
 * Rebuilds the OpenAI chat messages from an exported record and its image files: the inverse of the
 * export, used to check that a record holds exactly the conversation the model saw.
 */
export function rebuildMessages(record: SftRecord, readImage: (relPath: string) => Uint8Array): TrainingMessage[] {
  let next = 0;
  const takeImage = (): ContentPart => {
    const rel = record.images[next++];
    if (rel === undefined) throw new SpecVetError('trace', `more ${IMAGE_PLACEHOLDER} placeholders than images (${record.images.length})`);
    return { type: 'image_url', image_url: { url: pngDataUrl(readImage(rel)) } };
  };
  const out: TrainingMessage[] = record.conversations.map((t) => {
    if (t.from === 'system') return { role: 'system', content: t.value };
    if (t.from === 'gpt') return { role: 'assistant', content: t.value };
    const parts: ContentPart[] = [];
    t.value.split(IMAGE_PLACEHOLDER).forEach((text, i) => {
      if (i > 0) parts.push(takeImage());
      if (text) parts.push({ type: 'text', text });
    });
    return { role: 'user', content: parts };
  });
  if (next !== record.images.length) throw new SpecVetError('trace', `${record.images.length} images but ${next} ${IMAGE_PLACEHOLDER} placeholders`);
  return out;
}

// ---- Writing a dataset ------------------------------------------------------------------------

export interface SftInput {
  trace: Trace;
  /** Where the trace came from, for the report (a .jsonl path and its 1-based line). */
  file?: string;
  line?: number;
}

export interface SftExportOptions {
  outDir: string;
  /** Dataset name: the registry key and the file stem (default specvet_sft). */
  name?: string;
  approvedOnly?: boolean;
  /** Add the `tools` column (default true): the trained prompt then lists the zoom tool as vLLM's does. */
  tools?: boolean;
}

export interface SftTraceRef {
  traceId: string;
  file?: string;
  line?: number;
}

export interface SftExportReport {
  outDir: string;
  datasetName: string;
  /** Absolute paths of the files written (null when nothing was exportable and nothing was written). */
  datasetFile: string | null;
  infoFile: string | null;
  records: number;
  exported: Array<SftTraceRef & { turns: number; images: number }>;
  skipped: Array<SftTraceRef & { reason: string }>;
  warnings: Array<SftTraceRef & { message: string }>;
  /** Earlier lines of a trace id that appears again later (the latest line is the current one). */
  superseded: number;
  images: { written: number; reused: number };
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Writes `<name>.json`, `images/<sha256>.png` and the `<name>` entry of `dataset_info.json` (merged
 * into an existing registry) under `outDir`. Every file is written atomically; images are named by
 * content, so identical overviews are stored once and a re-export rewrites nothing it does not change.
 */
export function exportSft(inputs: SftInput[], opts: SftExportOptions): SftExportReport {
  const name = opts.name ?? 'specvet_sft';
  if (!NAME_PATTERN.test(name)) throw new SpecVetError('usage', `dataset name '${name}' must be letters, digits, '.', '_' or '-'`);
  const withTools = opts.tools ?? true;
  const outDir = path.resolve(opts.outDir);
  const report: SftExportReport = { outDir, datasetName: name, datasetFile: null, infoFile: null, records: 0, exported: [], skipped: [], warnings: [], superseded: 0, images: { written: 0, reused: 0 } };

  // The latest line of a trace id is the current one (re-runs, edits appended by other tools).
  const latest = new Map<string, SftInput>();
  for (const inp of inputs) {
    if (latest.has(inp.trace.id)) {
      latest.delete(inp.trace.id);
      report.superseded++;
    }
    latest.set(inp.trace.id, inp);
  }

  const ref = (i: SftInput): SftTraceRef => ({ traceId: i.trace.id, ...(i.file !== undefined ? { file: i.file } : {}), ...(i.line !== undefined ? { line: i.line } : {}) });
  const infoFile = path.join(outDir, 'dataset_info.json');
  let registry: Record<string, unknown> | null = null;
  const records: SftRecord[] = [];
  const seen = new Set<string>();
  // One trace at a time: its images are written and dropped before the next is converted.
  for (const inp of latest.values()) {
    const r = buildSample(inp.trace, { approvedOnly: opts.approvedOnly });
    if ('skip' in r) {
      report.skipped.push({ ...ref(inp), reason: r.skip });
      continue;
    }
    for (const w of r.warnings) report.warnings.push({ ...ref(inp), message: w });
    if (!registry) {
      // First exportable trace: check the registry before writing anything, then create the folders.
      registry = readRegistry(infoFile);
      try {
        fs.mkdirSync(path.join(outDir, 'images'), { recursive: true });
      } catch (err) {
        throw new SpecVetError('io', `cannot create the output folder (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, outDir);
      }
    }
    const paths = r.sample.images.map((png) => {
      const rel = `images/${createHash('sha256').update(png).digest('hex').slice(0, 32)}.png`;
      if (!seen.has(rel)) {
        seen.add(rel);
        const abs = path.join(outDir, rel);
        if (sameBytes(abs, png)) report.images.reused++;
        else {
          writeFileAtomic(abs, png);
          report.images.written++;
        }
      }
      return rel;
    });
    records.push({ conversations: r.sample.conversations, images: paths, ...(withTools ? { tools: SFT_TOOLS_JSON } : {}) });
    report.exported.push({ ...ref(inp), turns: r.sample.conversations.filter((t) => t.from === 'gpt').length, images: paths.length });
  }
  if (!registry) return report;

  const fileName = `${name}.json`;
  const datasetFile = path.join(outDir, fileName);
  writeFileAtomic(datasetFile, JSON.stringify(records, null, 1) + '\n');
  registry[name] = datasetInfoEntry(fileName, withTools);
  writeFileAtomic(infoFile, JSON.stringify(registry, null, 2) + '\n');
  report.records = records.length;
  report.datasetFile = datasetFile;
  report.infoFile = infoFile;
  return report;
}

/** An existing dataset_info.json (other datasets kept), or an empty registry. Never overwrites one it cannot read. */
function readRegistry(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SpecVetError('io', `cannot read the dataset registry (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, file);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SpecVetError('io', `the dataset registry is not valid JSON (${errorMessage(err)}); fix or remove it, it is not overwritten`, file);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SpecVetError('io', 'the dataset registry is not a JSON object of datasets; it is not overwritten', file);
  return v as Record<string, unknown>;
}

function sameBytes(file: string, data: Uint8Array): boolean {
  try {
    const st = fs.statSync(file);
    if (st.size !== data.byteLength) return false;
    return Buffer.compare(fs.readFileSync(file), data) === 0;
  } catch {
    return false;
  }
}
