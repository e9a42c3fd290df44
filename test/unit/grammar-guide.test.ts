// The guide grammar (syntaxes/guide.tmLanguage.json) tokenised by the same engine VS Code uses
// (vscode-textmate + the Oniguruma WebAssembly build): scopes of sample lines and of every built-in guide.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import { INITIAL, Registry, parseRawGrammar, type IGrammar, type StateStack } from 'vscode-textmate';
import { LINE_GROUPS } from '../../src/shared/lines';
import { validateGuide } from '../../src/core/guides/guide';
import { repoRoot } from '../support/paths';

const GRAMMAR = path.join(repoRoot, 'syntaxes/guide.tmLanguage.json');
/** VS Code's own Markdown and YAML grammars, from the code-server the extension-host tests use (when installed). */
function vscodeGrammar(rel: string): string | null {
  const base = path.join(repoRoot, '.vscode-test');
  if (!fs.existsSync(base)) return null;
  for (const d of fs.readdirSync(base)) {
    const f = path.join(base, d, 'node_modules/code-server/lib/vscode/extensions', rel);
    if (fs.existsSync(f)) return f;
  }
  return null;
}
const MARKDOWN = vscodeGrammar('markdown-basics/syntaxes/markdown.tmLanguage.json');

async function loadGrammar(withMarkdown: boolean): Promise<IGrammar> {
  const wasm = fs.readFileSync(path.join(repoRoot, 'node_modules/vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const files: Record<string, string | null> = {
    'text.specvet-guide': GRAMMAR,
    'text.html.markdown': withMarkdown ? MARKDOWN : null,
    'source.yaml': withMarkdown ? vscodeGrammar('yaml/syntaxes/yaml.tmLanguage.json') : null,
  };
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => {
      const f = files[scope];
      return f ? parseRawGrammar(fs.readFileSync(f, 'utf8'), f) : null;
    },
  });
  const g = await registry.loadGrammar('text.specvet-guide');
  assert.ok(g, 'grammar loads');
  return g;
}

interface Token {
  text: string;
  scopes: string[];
}

function tokenize(g: IGrammar, text: string): Token[][] {
  let state: StateStack = INITIAL;
  return text.split('\n').map((line) => {
    const r = g.tokenizeLine(line, state);
    state = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** Scopes of the token(s) spelling `text` on a line (the text may span adjacent tokens with the same innermost scope). */
function scopesOf(line: Token[], text: string): string[] {
  const joined = line.map((t) => t.text).join('');
  const at = joined.indexOf(text);
  assert.ok(at >= 0, `'${text}' not on line '${joined}'`);
  let pos = 0;
  for (const t of line) {
    if (pos + t.text.length > at) return t.scopes;
    pos += t.text.length;
  }
  throw new Error('unreachable');
}

function hasScope(line: Token[], text: string, scope: string): boolean {
  return scopesOf(line, text).some((s) => s === scope || s.startsWith(scope + '.'));
}

/** The token that exactly covers `text` (so a name is one token, not split). */
function wholeToken(line: Token[], text: string): Token | undefined {
  return line.find((t) => t.text === text);
}

const SAMPLE = `---
id: m-giant
version: "1"
target: M Giant Star
answers: [YES, NO]
surveys: [LAMOST, SDSS]
colour: red # not a guide key
windows:
  - range: [4700, 5050]
    label: TiO band heads 4762 and 4954 Å
---
**Key Visual Indicators:**
- Hα 6563 Å and H-beta in emission, He II 4686 strong; Ca II H&K absorbed.
- Na I D and Na I 8183/8195 weak; Mg b 5167–5184 Å; the G band near 4300.
- C₂ Swan band heads, CN beyond 7000 Å, ZrO 6474, VO 7400 nm, TiO.
- Telluric O₂ A band 7594–7621 Å and [O I] 5577, H₂O.
- Answer \\boxed{YES} only when sure; \\boxed{MAYBE} is not an answer.
<!-- curator note: Hα here is a comment, not a feature -->
Use \`Hα 6563\` in code as text.`;

let plain: IGrammar;
before(async () => {
  plain = await loadGrammar(false);
});

test('front matter: keys, unknown keys, window keys, ranges, answers, surveys, comments', () => {
  const l = tokenize(plain, SAMPLE);
  assert.ok(hasScope(l[0], '---', 'punctuation.definition.frontmatter.begin.specvet-guide'));
  assert.ok(hasScope(l[1], 'id', 'entity.name.tag.frontmatter-key.specvet-guide'));
  assert.ok(hasScope(l[1], 'id', 'meta.frontmatter.specvet-guide'));
  assert.ok(hasScope(l[2], '"1"', 'string.quoted.double.yaml'));
  assert.ok(hasScope(l[4], 'YES', 'constant.language.answer.specvet-guide'));
  assert.ok(hasScope(l[4], 'NO', 'constant.language.answer.specvet-guide'));
  assert.ok(hasScope(l[5], 'SDSS', 'support.constant.survey.specvet-guide'));
  assert.ok(hasScope(l[6], 'colour', 'entity.name.tag.unknown-key.specvet-guide'));
  assert.ok(hasScope(l[6], '# not a guide key', 'comment.line.number-sign.yaml'));
  assert.ok(hasScope(l[8], 'range', 'entity.name.tag.window-key.specvet-guide'));
  assert.ok(hasScope(l[8], '-', 'punctuation.definition.block.sequence.item.yaml'));
  assert.ok(hasScope(l[8], '4700', 'constant.numeric.wavelength.specvet-guide'));
  assert.ok(hasScope(l[8], '5050', 'meta.wavelength-range.specvet-guide'));
  assert.ok(hasScope(l[9], 'label', 'entity.name.tag.window-key.specvet-guide'));
  assert.ok(hasScope(l[9], 'TiO', 'support.constant.line.tio.specvet-guide'), 'line names inside window labels');
  assert.ok(hasScope(l[10], '---', 'punctuation.definition.frontmatter.end.specvet-guide'));
  assert.ok(!hasScope(l[11], '**Key', 'meta.frontmatter.specvet-guide'), 'the body is not front matter');
});

test('body: line and band names with their wavelengths, each as one token with its group', () => {
  const l = tokenize(plain, SAMPLE);
  const cases: Array<[number, string, string]> = [
    [12, 'Hα 6563', 'balmer'],
    [12, 'H-beta', 'balmer'],
    [12, 'He II 4686', 'heii'],
    [12, 'Ca II H&K', 'caii'],
    [13, 'Na I D', 'nai'],
    [13, 'Na I 8183/8195', 'nai'],
    [13, 'Mg b 5167–5184', 'mgb'],
    [13, 'G band', 'gband'],
    [14, 'C₂ Swan', 'c2'],
    [14, 'CN', 'cn'],
    [14, 'ZrO 6474', 'zro'],
    [14, 'VO 7400', 'vo'],
    [14, 'TiO', 'tio'],
    [15, 'Telluric', 'sky'],
    [15, 'O₂ A band', 'sky'],
    [15, '[O I] 5577', 'sky'],
    [15, 'H₂O', 'sky'],
  ];
  for (const [n, text, group] of cases) {
    const t = wholeToken(l[n], text);
    assert.ok(t, `'${text}' is one token on line ${n}: ${JSON.stringify(l[n].map((x) => x.text))}`);
    assert.ok(t.scopes.includes(`support.constant.line.${group}.specvet-guide`), `${text}: ${t.scopes.join(' ')}`);
  }
});

test('body: wavelengths with units and ranges; bare wavelengths', () => {
  const l = tokenize(plain, SAMPLE);
  assert.ok(hasScope(l[12], '6563', 'support.constant.line.balmer.specvet-guide'));
  assert.ok(hasScope(l[12], 'Å', 'keyword.other.unit.specvet-guide'));
  assert.ok(hasScope(l[14], '7000', 'constant.numeric.wavelength.specvet-guide'));
  assert.ok(hasScope(l[14], 'nm', 'keyword.other.unit.specvet-guide'));
  assert.ok(hasScope(l[15], '7594', 'meta.wavelength-range.specvet-guide'));
  assert.ok(hasScope(l[15], '7621', 'constant.numeric.wavelength.specvet-guide'));
  assert.ok(hasScope(l[15], '–', 'punctuation.separator.range.specvet-guide'));
  assert.ok(hasScope(l[13], '4300', 'constant.numeric.wavelength.specvet-guide'), 'a bare optical wavelength');
  const r = tokenize(plain, 'about 6500-6600 A, R≈1800 and 42 points')[0];
  assert.ok(hasScope(r, '6500', 'meta.wavelength-range.specvet-guide'));
  assert.ok(hasScope(r, 'A', 'keyword.other.unit.specvet-guide'));
  assert.ok(!hasScope(r, '1800', 'constant.numeric.wavelength.specvet-guide'), 'a resolution is not a wavelength');
  assert.ok(!hasScope(r, '42', 'constant.numeric.wavelength.specvet-guide'));
});

test('body: \\boxed{YES} is an answer, \\boxed{MAYBE} is flagged; comments and code are left alone', () => {
  const l = tokenize(plain, SAMPLE);
  assert.ok(hasScope(l[16], '\\boxed', 'support.function.boxed.specvet-guide'));
  assert.ok(hasScope(l[16], 'YES', 'constant.language.answer.specvet-guide'));
  assert.ok(hasScope(l[16], 'MAYBE', 'invalid.illegal.answer.specvet-guide'));
  assert.ok(hasScope(l[17], 'Hα', 'comment.block.html'));
  assert.ok(!hasScope(l[17], 'Hα', 'support.constant.line.balmer.specvet-guide'), 'no line names inside comments');
});

test('every marker label in src/shared/lines.ts is recognised as a line name of its group', () => {
  const groupScope: Record<string, string> = {};
  for (const g of LINE_GROUPS) for (const m of g.lines) groupScope[m.label] = g.id;
  for (const [label, group] of Object.entries(groupScope)) {
    const line = tokenize(plain, `See ${label} here.`)[0];
    const t = line.find((x) => x.text.startsWith(label.split(' ')[0]) && x.scopes.some((s) => s.startsWith('support.constant.line.')));
    assert.ok(t, `${label}: ${JSON.stringify(line)}`);
    assert.ok(t.scopes.includes(`support.constant.line.${group}.specvet-guide`), `${label} → ${t.scopes.join(' ')}`);
  }
});

test('every built-in guide tokenises without error, with front matter closed and wavelength scopes in the body', () => {
  for (const f of fs.readdirSync(path.join(repoRoot, 'guides'))) {
    const text = fs.readFileSync(path.join(repoRoot, 'guides', f), 'utf8');
    const lines = tokenize(plain, text);
    const end = text.split('\n').indexOf('---', 1);
    assert.ok(end > 0, f);
    assert.ok(hasScope(lines[end], '---', 'punctuation.definition.frontmatter.end.specvet-guide'), `${f}: front matter closes at line ${end + 1}`);
    const body = lines.slice(end + 1).flat();
    assert.ok(body.some((t) => t.scopes.some((s) => s.startsWith('support.constant.line.'))), `${f}: line names in the body`);
    assert.ok(body.every((t) => !t.scopes.includes('meta.frontmatter.specvet-guide')), `${f}: body outside front matter`);
  }
});

test('with VS Code\'s Markdown grammar embedded: emphasis and lists scoped by Markdown, line names still injected', { skip: MARKDOWN ? false : 'VS Code Markdown grammar not installed (.vscode-test/code-server)' }, async () => {
  const md = await loadGrammar(true);
  const l = tokenize(md, SAMPLE);
  assert.ok(hasScope(l[11], 'Key Visual Indicators:', 'markup.bold.markdown'));
  assert.ok(hasScope(l[12], '-', 'punctuation.definition.list.begin.markdown'));
  const t = wholeToken(l[12], 'He II 4686');
  assert.ok(t?.scopes.includes('support.constant.line.heii.specvet-guide'), JSON.stringify(l[12]));
  assert.ok(t?.scopes.includes('markup.list.unnumbered.markdown'));
  assert.ok(hasScope(l[16], 'YES', 'constant.language.answer.specvet-guide'));
  assert.ok(hasScope(l[18], 'Hα 6563', 'markup.inline.raw.string.markdown'));
  assert.ok(!hasScope(l[18], 'Hα 6563', 'support.constant.line.balmer.specvet-guide'), 'no line names inside inline code');
  assert.ok(hasScope(l[1], 'id', 'entity.name.tag.frontmatter-key.specvet-guide'), 'our front matter wins over Markdown\'s');
});

/** A snippet body with every placeholder at its default and variables set (as VS Code inserts it before typing). */
function expandSnippet(body: string[], vars: Record<string, string>): string {
  let text = body.join('\n');
  for (let i = 0; i < 10; i++) {
    const before = text;
    text = text
      .replace(/\$\{([A-Z_]+)\/[^}]*\/\}/g, (_, v: string) => vars[v] ?? '')
      .replace(/\$\{\d+:([^${}]*)\}/g, '$1')
      .replace(/\$\{(\d+)\}/g, '')
      .replace(/\$\d+/g, '');
    if (text === before) break;
  }
  return text;
}

test('snippets: the new-guide template is a valid guide as inserted, and a new window slots into it', () => {
  const snippets = JSON.parse(fs.readFileSync(path.join(repoRoot, 'syntaxes/guide.snippets.json'), 'utf8'));
  const guideText = expandSnippet(snippets['New guide'].body, { TM_FILENAME_BASE: 'my-class' });
  const v = validateGuide(guideText, 'my-class.guide.md');
  assert.deepEqual(v.diagnostics, [], guideText);
  assert.equal(v.guide!.id, 'my-class');
  const windowText = expandSnippet(snippets['New diagnostic window'].body, {}).split('\n').map((l) => `  ${l}`).join('\n');
  const withWindow = guideText.replace('windows:\n', `windows:\n${windowText}\n`);
  const w = validateGuide(withWindow);
  assert.deepEqual(w.diagnostics, []);
  assert.deepEqual(w.guide!.windows.map((x) => x.range), [[6500, 6630], [4650, 4800]]);
  const item = expandSnippet(snippets['New diagnostic indicator'].body, {});
  const lines = tokenize(plain, item)[0];
  assert.ok(hasScope(lines, '6563', 'meta.wavelength.specvet-guide'), 'the indicator snippet writes a wavelength the grammar recognises');
});

test('language configuration: valid JSON, comment tokens, and its regular expressions compile', () => {
  const conf = JSON.parse(fs.readFileSync(path.join(repoRoot, 'syntaxes/guide.language-configuration.json'), 'utf8'));
  assert.deepEqual(conf.comments.blockComment, ['<!--', '-->']);
  const word = new RegExp(conf.wordPattern, 'u');
  assert.equal(word.exec('Hα')?.[0], 'Hα');
  assert.equal(word.exec('C₂')?.[0], 'C₂');
  new RegExp(conf.folding.markers.start);
  new RegExp(conf.folding.markers.end);
  for (const r of conf.onEnterRules) new RegExp(r.beforeText);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'specvet-guide');
  assert.deepEqual(lang.extensions, ['.guide.md']);
  for (const p of [lang.configuration, ...pkg.contributes.grammars.filter((g: { language: string }) => g.language === 'specvet-guide').map((g: { path: string }) => g.path)]) assert.ok(fs.existsSync(path.join(repoRoot, p)), p);
});
