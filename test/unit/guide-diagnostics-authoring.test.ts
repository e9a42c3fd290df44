// Guide authoring features on real guides: diagnostics while typing (every prefix of a built-in guide
// and typical edits), hovers on line names (air and vacuum wavelengths from src/shared/lines.ts),
// folding of the front matter and sections, and the prompt preview on a real LAMOST spectrum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { initialMessages } from '../../src/core/agent/prompt';
import { loadGuide, validateGuide } from '../../src/core/guides/guide';
import { findLineNames, lineNameAt, lineNameCompletions, lineNameHoverMarkdown, wavelengthAt, wavelengthHoverMarkdown } from '../../src/core/guides/line-names';
import { lintWindowLabels } from '../../src/core/guides/lint';
import { buildPromptPreview, qwenImageTokens } from '../../src/core/guides/preview';
import { renderOverview } from '../../src/core/render/tool';
import { openSpectrumFile } from '../../src/core/spectrum/open';
import { LINE_GROUPS, airToVacuum } from '../../src/shared/lines';
import { guideFoldingRanges } from '../../src/extension/guides/folding';
import { fixture, repoRoot } from '../support/paths';

const CV = fs.readFileSync(path.join(repoRoot, 'guides/cv.guide.md'), 'utf8');

test('typing a guide character by character: never throws, every diagnostic lies inside the text typed so far', () => {
  for (let n = 0; n <= CV.length; n += 3) {
    const text = CV.slice(0, n);
    const lines = text.split('\n');
    const v = validateGuide(text, 'typing.guide.md');
    for (const d of v.diagnostics) {
      const r = d.range;
      assert.ok(r.line >= 0 && r.endLine < lines.length + 1, `prefix ${n}: line ${r.line}-${r.endLine} of ${lines.length}`);
      assert.ok(r.line < r.endLine || r.col <= r.endCol, `prefix ${n}: ordered range`);
      assert.ok(d.message.length > 5);
    }
  }
  assert.ok(validateGuide(CV).guide, 'the whole guide is valid');
});

/** Diagnostics after replacing `from` by `to` in the cv guide, with the 0-based line of `to`. */
function edit(from: string, to: string) {
  assert.ok(CV.includes(from), from);
  const text = CV.replace(from, to);
  const line = text.slice(0, text.indexOf(to)).split('\n').length - 1;
  return { v: validateGuide(text), line };
}

test('typical edits give positioned errors: reversed range, outside coverage, unreadable answers, missing field, wrong id', () => {
  let { v, line } = edit('range: [6500, 6630]', 'range: [6630, 6500]');
  let d = v.diagnostics.find((x) => x.severity === 'error')!;
  assert.match(d.message, /reversed/);
  assert.equal(d.range.line, line);
  assert.equal(v.guide, undefined, 'an invalid guide does not load');

  ({ v, line } = edit('range: [5800, 5950]', 'range: [10500, 10600]'));
  d = v.diagnostics.find((x) => x.severity === 'error')!;
  assert.match(d.message, /outside the coverage of LAMOST\/SDSS\/DESI/);
  assert.equal(d.range.line, line);

  ({ v, line } = edit('answers: [YES, NO]', 'answers: [YES, MAYBE]'));
  d = v.diagnostics.find((x) => x.severity === 'error')!;
  assert.match(d.message, /answers/);
  assert.equal(d.range.line, line);

  ({ v } = edit('question: Is this spectrum a cataclysmic variable?\n', ''));
  assert.ok(v.diagnostics.some((x) => x.severity === 'error' && /missing 'question'/.test(x.message)));

  ({ v, line } = edit('id: cv', 'id: Cata Var'));
  d = v.diagnostics.find((x) => x.severity === 'error')!;
  assert.match(d.message, /'id' must be lower-case/);
  assert.equal(d.range.line, line);

  ({ v, line } = edit('range: [4800, 4920]', 'range: [4800, 4920, 5000]'));
  d = v.diagnostics.find((x) => x.severity === 'error')!;
  assert.match(d.message, /exactly two numbers/);
  assert.equal(d.range.line, line);
});

test('hover: a line name resolves to its markers with air and vacuum wavelengths', () => {
  const line = '- Ionised helium He II 4686 Å in emission, Hα 6563 and the Ca II H&K lines; Na D; TiO bands; [O I] 5577.';
  const names = findLineNames(line).map((m) => [m.text, m.group.id, m.lines.map((l) => l.label)]);
  assert.deepEqual(names, [
    ['He II 4686', 'heii', ['He II 4686']],
    ['Hα 6563', 'balmer', ['Hα']],
    ['Ca II H&K', 'caii', ['Ca II K', 'Ca II H']],
    ['Na D', 'nai', ['Na D2', 'Na D1']],
    ['TiO', 'tio', ['TiO 4762', 'TiO 4954', 'TiO 5167', 'TiO 5448', 'TiO 5847', 'TiO 6159', 'TiO 6651', 'TiO 7054', 'TiO 7589', 'TiO 8432']],
    ['[O I] 5577', 'sky', ['[O I] 5577']],
  ]);
  const at = line.indexOf('Hα') + 1;
  const m = lineNameAt(line, at)!;
  assert.equal(m.text, 'Hα 6563');
  const md = lineNameHoverMarkdown(m);
  assert.match(md, /\| Hα \| 6562\.8 \| 6564\.6 \|/, md);
  assert.ok(Math.abs(airToVacuum(6562.8) - 6564.6) < 0.05, 'IAU air→vacuum at Hα');
  assert.equal(lineNameAt(line, line.indexOf('in emission')), null, 'no hover on ordinary words');
  assert.match(lineNameHoverMarkdown(findLineNames('telluric O₂ A band')[1]), /O₂ A \| 7594\.0–7621\.0/);
});

test('folding: the front matter and each Markdown section', () => {
  const lines = ['---', 'id: x', 'version: "1"', '---', '# Indicators', '- a', '- b', '', '## Detail', 'text', '# Artefacts', 'sky', ''];
  assert.deepEqual(guideFoldingRanges(lines), [
    { start: 0, end: 3, kind: 'region' },
    { start: 4, end: 9 },
    { start: 8, end: 9 },
    { start: 10, end: 11 },
  ]);
});

test('prompt preview on a real LAMOST spectrum: the exact first messages, the image as sent, sizes and token estimates', () => {
  const guide = loadGuide('m-giant');
  const spectrum = openSpectrumFile(fixture('spec-55862-B6212_sp06-025.fits')).get(0);
  const p = buildPromptPreview(guide, spectrum);
  const expected = initialMessages(guide, renderOverview(spectrum).png);
  assert.deepEqual(p.messages, expected, 'the preview holds the messages the loop sends');
  assert.deepEqual(p.parts.map((x) => `${x.role}:${x.kind}`), ['system:text', 'user:image', 'user:text', 'tools:text']);
  const img = p.parts[1];
  const png = PNG.sync.read(Buffer.from(img.dataUrl!.split(',')[1], 'base64'));
  assert.deepEqual([png.width, png.height], [img.width, img.height]);
  assert.ok(img.width! > 700 && img.width! < 860 && img.height! > 420 && img.height! < 520, `overview near 800×480: ${img.width}×${img.height}`);
  assert.equal(img.tokens, qwenImageTokens(img.width!, img.height!));
  assert.equal(qwenImageTokens(812, 480), 29 * 17 + 2, 'smart_resize to 812×476 → 29×17 patches');
  assert.ok(p.parts[2].text!.includes('**M Giant Star**'));
  assert.ok(p.requestBytes > img.bytes * 4 / 3, 'the body carries the base64 image');
  assert.equal(p.totals.tokens, p.totals.textTokens + p.totals.imageTokens);
});

test('label checks: every built-in guide is clean; a label naming a line outside its window is a warning on that word', () => {
  for (const id of ['cv', 'carbon', 's-star', 'm-giant', 'white-dwarf', 'o-star', 'b-star', 'a-star']) {
    const g = loadGuide(id);
    assert.deepEqual(lintWindowLabels(g.text, g.windows), [], id);
  }
  // H-beta's window with an Hα label, and a band-head wavelength typo.
  const text = CV.replace('label: H-beta 4861 Å', 'label: H-alpha 6563 Å').replace('label: He I 5876 Å', 'label: He I 5876 and 6876 Å');
  const g = validateGuide(text).guide!;
  const w = lintWindowLabels(text, g.windows);
  assert.equal(w.length, 2, JSON.stringify(w));
  const lines = text.split('\n');
  assert.match(w[0].message, /window 2: the label names H-alpha 6563 \(Hα 6562\.8 Å\), outside the window \[4800, 4920\] Å/);
  assert.equal(lines[w[0].range.line].slice(w[0].range.col, w[0].range.endCol), 'H-alpha 6563');
  assert.match(w[1].message, /window 4: the label mentions 6876 Å, outside the window \[5800, 5950\]/);
  assert.equal(lines[w[1].range.line].slice(w[1].range.col, w[1].range.endCol), '6876');
  assert.ok(w.every((d) => d.severity === 'warning'));
  // Flow-style windows: nothing reliable to point at, no false warnings.
  const flow = CV.replace(/windows:\n(?:  .*\n)+/, 'windows: [{range: [6500, 6630], label: H-beta}]\n');
  const fg = validateGuide(flow).guide!;
  assert.deepEqual(lintWindowLabels(flow, fg.windows), []);
});

test('hover on a wavelength: both media and the features near it; nm converted; other numbers ignored', () => {
  const line = 'the band head at 4737 Å and 656.3 nm, version 1, R 1800';
  const w = wavelengthAt(line, line.indexOf('4737') + 2)!;
  assert.equal(w.angstrom, 4737);
  assert.match(wavelengthHoverMarkdown(w), /C₂ 4737 \(C₂ Swan\) \| 4737\.0 \| 4738\.3/);
  const nm = wavelengthAt(line, line.indexOf('656.3') + 1)!;
  assert.equal(nm.angstrom, 6563);
  assert.match(wavelengthHoverMarkdown(nm), /Hα \(Balmer\)/);
  assert.equal(wavelengthAt(line, line.indexOf('1800')), null, 'not an optical wavelength');
  assert.equal(wavelengthAt(line, line.indexOf('version')), null);
});

test('completions: every marker with its wavelength to insert, found by its ASCII spelling too', () => {
  const items = lineNameCompletions();
  const total = LINE_GROUPS.reduce((n, g) => n + g.lines.length, 0);
  assert.equal(items.length, total);
  const ha = items.find((c) => c.label === 'Hα')!;
  assert.equal(ha.insertText, 'Hα 6563 Å');
  assert.match(ha.filterText, /Halpha/);
  assert.match(ha.filterText, /H-alpha/);
  assert.equal(ha.detail, 'Balmer — 6562.8 Å air, 6564.6 Å vacuum');
  assert.equal(items.find((c) => c.label === 'He II 4686')!.insertText, 'He II 4686 Å');
  assert.equal(items.find((c) => c.label === 'O₂ A')!.insertText, 'O₂ A 7594–7621 Å');
  assert.match(items.find((c) => c.label === 'C₂ 5165')!.filterText, /C2 5165/);
  // What is inserted is recognised again as the same line by the hover.
  for (const c of items) {
    const m = findLineNames(c.insertText)[0];
    assert.ok(m && m.start === 0, `${c.insertText} is a line name`);
    assert.ok(m.lines.some((l) => l.label === c.label), `${c.insertText} → ${m.lines.map((l) => l.label)}`);
  }
});
