// Preview Prompt page: the first request's messages as the model receives them, with sizes. A pure
// function (no vscode import) with a strict CSP and no scripts: the page only shows.
import type { PromptPreview } from '../../core/guides/preview';
import { contentSecurityPolicy } from '../webviewHtml';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${bytes} B`;
}

export function promptPreviewHtml(p: PromptPreview, o: { cspSource: string; nonce: string; spectrumLabel: string }): string {
  const parts = p.parts
    .map((part, i) => {
      const head = `<div class="meta"><span class="role role-${part.role}">${part.role === 'tools' ? 'tools (written into the system turn by the chat template)' : part.role}</span> · ${part.kind}${part.kind === 'image' ? ` ${part.width}×${part.height}` : ''} · ${size(part.bytes)} · ≈${part.tokens} tokens</div>`;
      const body = part.kind === 'image' ? `<img alt="overview image sent to the model" src="${part.dataUrl}" width="${part.width}" height="${part.height}">` : `<pre>${esc(part.text ?? '')}</pre>`;
      return `<section class="part" data-index="${i}">${head}${body}</section>`;
    })
    .join('\n');
  const t = p.totals;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(o.cspSource, o.nonce))}">
<title>Prompt: ${esc(p.guideId)}</title>
<style nonce="${o.nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em 2em; }
pre { white-space: pre-wrap; font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: .6em; border-radius: 3px; }
.meta { opacity: .8; margin: 1.2em 0 .3em; font-size: .9em; }
.role { font-weight: bold; }
img { max-width: 100%; height: auto; background: #fff; border: 1px solid var(--vscode-panel-border); }
table { border-collapse: collapse; } td { padding: 2px 10px 2px 0; }
</style>
</head>
<body>
<h2>First request for guide <code>${esc(p.guideId)}</code> v${esc(p.guideVersion)} on ${esc(o.spectrumLabel)}</h2>
<table id="totals">
<tr><td>request body (JSON, hermes)</td><td>${size(p.requestBytes)}</td></tr>
<tr><td>text</td><td>${size(t.textBytes)} · ≈${t.textTokens} tokens</td></tr>
<tr><td>images</td><td>${size(t.imageBytes)} · ${t.imageTokens} tokens (Qwen2.5-VL, 28×28 patches)</td></tr>
<tr><td>prompt total</td><td>≈${t.tokens} tokens; wavelengths in the ${p.frame} frame</td></tr>
</table>
${parts}
</body>
</html>`;
}
