// The FITS editor's page with its first-paint bundle inlined (src/extension/webviewHtml.ts): the
// built script and stylesheet go in whole, under the nonce, without anything able to end their
// element early, and their source maps still resolve to the files in dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contentSecurityPolicy, fitsViewerHtml } from '../../src/extension/webviewHtml';
import { repoRoot } from '../support/paths';

const base = 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/';
const page = (inlineScript?: string, inlineStyle?: string) =>
  fitsViewerHtml({ cspSource: 'https://file+.vscode-resource.vscode-cdn.net', scriptUri: `${base}fits.js`, styleUri: `${base}fits.css`, nonce: 'N0nce', title: 'a.fits', inlineScript, inlineStyle });

test('the built first-paint bundle is inlined whole under the nonce, its source map pointing into dist/', () => {
  const js = fs.readFileSync(path.join(repoRoot, 'dist/webview/fits.js'), 'utf8');
  const css = fs.readFileSync(path.join(repoRoot, 'dist/webview/fits.css'), 'utf8');
  const html = page(js, css);
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1, 'one script element');
  assert.match(scripts[0][1], /nonce="N0nce"/);
  assert.match(scripts[0][1], new RegExp(`data-src="${base.replace(/[.+]/g, '\\$&')}fits\\.js"`), 'says where the script lives (for the late bundle)');
  assert.ok(scripts[0][2].length > js.length * 0.99, 'the whole bundle is inside the element');
  assert.match(scripts[0][2], /\/\/# sourceMappingURL=https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/fits\.js\.map\s*$/);
  assert.match(html, /<style nonce="N0nce">[\s\S]*\/\*# sourceMappingURL=https:[^ ]*fits\.css\.map \*\/\s*<\/style>/);
  assert.doesNotMatch(html, /<link rel="stylesheet"/);
  assert.doesNotMatch(contentSecurityPolicy('x', 'N0nce'), /unsafe-inline/);
});

test('a closing tag inside the inlined code cannot end the element early', () => {
  const html = page('const s = "</script><script>alert(1)</SCRIPT>"; const r = /<\\/script>/;', 'a::after { content: "</style>" }');
  assert.equal([...html.matchAll(/<\/script/gi)].length, 1, 'only the real closing tag');
  assert.equal([...html.matchAll(/<\/style/gi)].length, 1);
  assert.match(html, /"<\\\/script><script>alert\(1\)<\\\/SCRIPT>"/, 'escaped as <\\/ (same string in JS)');
});

test('without inlined text the page fetches the bundle by URI', () => {
  const html = page();
  assert.match(html, new RegExp(`<script nonce="N0nce" src="${base.replace(/[.+]/g, '\\$&')}fits\\.js"></script>`));
  assert.match(html, /<link rel="stylesheet" href="[^"]*fits\.css" nonce="N0nce">/);
});
