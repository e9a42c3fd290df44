import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUILTIN_GUIDE_IDS, builtinGuidesDir, listBuiltinGuides, loadGuide, validateGuide } from '../../src/core/guides/guide';
import { buildTaskText } from '../../src/core/agent/prompt';
import { SpecVetError } from '../../src/core/errors';

const GOOD = `---
id: test-guide
version: "2"
target: Carbon Star (C-type)
question: Is this a carbon star?
answers: [YES, NO]
surveys: [LAMOST]
windows:
  - range: [4650, 4850]
    label: C2 4737
---
**Key Visual Indicators:**
- C2 Swan bands.
<!-- a note for guide authors, not for the model -->
`;

test('every built-in guide loads without diagnostics and has windows inside its surveys', () => {
  const guides = listBuiltinGuides();
  assert.deepEqual(guides.map((g) => g.id), [...BUILTIN_GUIDE_IDS]);
  for (const g of guides) {
    const v = validateGuide(g.text, g.source);
    assert.deepEqual(v.diagnostics, [], `${g.id}: ${JSON.stringify(v.diagnostics)}`);
    assert.ok(g.windows.length >= 3, `${g.id} suggests windows`);
    assert.match(g.promptText, /Key Visual Indicators/);
    assert.equal(g.source, `builtin:${g.id}`);
    assert.match(g.sha256, /^[0-9a-f]{64}$/);
  }
  assert.ok(fs.existsSync(path.join(builtinGuidesDir(), 'carbon.guide.md')));
});

test('the task text has the training shape: newline after the image, bold target, indicators, answer format', () => {
  const g = loadGuide('carbon');
  const t = buildTaskText(g);
  assert.ok(t.startsWith('\nAnalyze the provided spectrum to determine if it is a **Carbon Star (C-type)**.\n\n**Key Visual Indicators:**\n- '));
  assert.match(t, /\\boxed\{YES\} or \\boxed\{NO\}/);
});

test('a good guide parses; HTML comments stay out of the prompt', () => {
  const v = validateGuide(GOOD);
  assert.deepEqual(v.diagnostics, []);
  assert.equal(v.guide?.version, '2');
  assert.deepEqual(v.guide?.windows, [{ range: [4650, 4850], label: 'C2 4737' }]);
  assert.ok(!v.guide?.promptText.includes('guide authors'));
});

function diag(text: string) {
  return validateGuide(text).diagnostics;
}

test('missing fields are errors pointing into the front matter', () => {
  const d = diag(GOOD.replace('target: Carbon Star (C-type)\n', ''));
  assert.equal(d.length, 1);
  assert.equal(d[0].severity, 'error');
  assert.match(d[0].message, /missing 'target'/);
  assert.equal(validateGuide(GOOD.replace('target: Carbon Star (C-type)\n', '')).guide, undefined);
});

test('a reversed range is an error at the range itself (line and column)', () => {
  const text = GOOD.replace('[4650, 4850]', '[4850, 4650]');
  const d = diag(text);
  assert.equal(d.length, 1);
  assert.match(d[0].message, /reversed/);
  const lines = text.split('\n');
  assert.equal(lines[d[0].range.line].slice(d[0].range.col, d[0].range.endCol), '[4850, 4650]');
});

test('malformed ranges, windows outside the coverage and beyond it', () => {
  assert.match(diag(GOOD.replace('[4650, 4850]', '[4650]'))[0].message, /exactly two numbers/);
  assert.match(diag(GOOD.replace('[4650, 4850]', '[4650, red]'))[0].message, /exactly two numbers/);
  const outside = diag(GOOD.replace('[4650, 4850]', '[12000, 13000]'));
  assert.equal(outside[0].severity, 'error');
  assert.match(outside[0].message, /outside the coverage of LAMOST \(3690–9100 Å\)/);
  const partly = diag(GOOD.replace('[4650, 4850]', '[9000, 9500]'));
  assert.equal(partly[0].severity, 'warning');
  assert.match(partly[0].message, /extends beyond/);
});

test('an unreadable answer set is an error', () => {
  assert.match(diag(GOOD.replace('[YES, NO]', '[Carbon, Not carbon]'))[0].message, /\[YES, NO\]/);
  assert.match(diag(GOOD.replace('answers: [YES, NO]', 'answers: YES'))[0].message, /\[YES, NO\]/);
  assert.deepEqual(diag(GOOD.replace('[YES, NO]', '[no, yes]')), [], 'order and case do not matter');
});

test('broken YAML and missing front matter are positioned errors', () => {
  const d = diag(GOOD.replace('question: Is this a carbon star?', 'question: [unclosed'));
  assert.equal(d[0].severity, 'error');
  assert.match(d[0].message, /^YAML:/);
  assert.ok(d[0].range.line >= 1);
  const none = diag('# Just markdown\n');
  assert.match(none[0].message, /front matter/);
  assert.equal(none[0].range.line, 0);
});

test('unknown keys are warnings; the guide still loads', () => {
  const v = validateGuide(GOOD.replace('id: test-guide', 'id: test-guide\nauthor: me'));
  assert.equal(v.diagnostics[0].severity, 'warning');
  assert.ok(v.guide);
  assert.equal(v.diagnostics[0].range.line, 2);
});

test('loadGuide takes a path; unknown ids and missing files are clear errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-guide-'));
  const file = path.join(dir, 'mine.guide.md');
  fs.writeFileSync(file, GOOD);
  assert.equal(loadGuide(file).id, 'test-guide');
  assert.throws(() => loadGuide('quasar'), (e: unknown) => e instanceof SpecVetError && e.code === 'usage' && /unknown guide 'quasar'/.test(e.message));
  assert.throws(() => loadGuide(path.join(dir, 'nope.guide.md')), (e: unknown) => e instanceof SpecVetError && e.code === 'io' && /not found/.test(e.message));
  fs.writeFileSync(file, GOOD.replace('[4650, 4850]', '[4850, 4650]'));
  assert.throws(() => loadGuide(file), (e: unknown) => e instanceof SpecVetError && e.code === 'guide' && /line 9: window 1: range \[4850, 4650\] is reversed/.test(e.message));
});
