// Model text → safe HTML. The model's output is untrusted: markdown-it with html:false escapes any
// markup it contains, images are disabled (no remote fetches), and DOMPurify removes anything that
// could still run or restyle the page (the CSP also forbids inline script and style attributes).
import MarkdownIt from 'markdown-it';
import DOMPurify from 'dompurify';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: true });
md.disable(['image']);

const PURIFY = {
  FORBID_TAGS: ['img', 'style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
  // markdown-it writes style="text-align" on table cells: the strict CSP would report it.
  FORBID_ATTR: ['style', 'srcset', 'action', 'formaction'],
  ALLOW_DATA_ATTR: false,
};

/** Sanitised HTML for Markdown `text`. */
export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(md.render(text), PURIFY) as unknown as string;
}

/**
 * Raw streamed assistant text as Markdown to show while a turn is being generated: think tags
 * dropped, a (possibly unfinished) tool call shown as a code block, answer tags dropped.
 */
export function streamingMarkdown(raw: string): string {
  let t = raw.replace(/<\/?think>/gi, '').replace(/<\/?answer>/gi, '');
  t = t.replace(/<tool_call>\s*([\s\S]*?)(?:<\/tool_call>|$)/gi, (_m, call: string) => `\n\n\`\`\`json\n${call.trim()}\n\`\`\`\n`);
  return t.trim();
}

/** Exact PNG bytes as a data: URL (the webview CSP allows data: images; blob: is not needed). */
export function pngDataUrl(png: Uint8Array): string {
  let bin = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < png.length; i += CHUNK) bin += String.fromCharCode.apply(null, Array.from(png.subarray(i, i + CHUNK)));
  return `data:image/png;base64,${btoa(bin)}`;
}
