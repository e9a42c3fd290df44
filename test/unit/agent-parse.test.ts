import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractAnswer, extractThinks, formatTextToolCall, parseAssistantTurn } from '../../src/core/agent/parse';

// Real-looking Qwen2.5-VL / Spec-o3 outputs.
const ZOOM_TURN = `<think>
The overview shows a red continuum with several sharp drops. The strongest drop is near 4750 Å, which could be the C2 Swan band head at 4737 Å or TiO at 4762 Å. I need to zoom in to tell them apart.
</think>
<tool_call>
{"name": "spectral_visualization_tool", "arguments": {"label": "C2 Swan band head", "wavelength_range": [4650, 4850]}}
</tool_call>`;

const ANSWER_TURN = `<think>
The zoomed region shows the band head at 4737 Å with the characteristic gradual recovery redward, and there is no TiO at 4954 Å. These are C2 Swan bands.
</think>
<answer>
The spectrum shows C2 Swan bands and no TiO, so it is a carbon star. \\boxed{YES}
</answer>`;

test('a zoom turn yields its think text and the tool call from <tool_call> text', () => {
  const p = parseAssistantTurn(ZOOM_TURN);
  assert.equal(p.thinks.length, 1);
  assert.match(p.thinks[0], /C2 Swan band head at 4737/);
  assert.ok(p.toolCall);
  assert.equal(p.toolCall.source, 'text');
  assert.equal(p.toolCall.name, 'spectral_visualization_tool');
  assert.deepEqual(p.toolCall.arguments, { label: 'C2 Swan band head', wavelength_range: [4650, 4850] });
  assert.equal(p.hasAnswer, false);
  assert.equal(p.answer.verdict, null);
});

test('a well-formed answer turn is YES with formatOk', () => {
  const p = parseAssistantTurn(ANSWER_TURN);
  assert.equal(p.toolCall, null);
  assert.equal(p.hasAnswer, true);
  assert.deepEqual(
    { verdict: p.answer.verdict, formatOk: p.answer.formatOk, via: p.answer.via, errors: p.answer.formatErrors },
    { verdict: 'YES', formatOk: true, via: 'answer', errors: [] },
  );
});

test('boxed answers are case-insensitive and may be wrapped in \\text{}', () => {
  assert.equal(extractAnswer('<think>x</think><answer>\\boxed{no}</answer>').verdict, 'NO');
  assert.equal(extractAnswer('<think>x</think><answer>\\boxed{\\text{Yes}}</answer>').verdict, 'YES');
  assert.equal(extractAnswer('<think>x</think><answer>\\boxed{ NO }</answer>').formatOk, true);
});

test('tool calls from the tool_calls field are read, arguments given as a JSON string', () => {
  const p = parseAssistantTurn('<think>zoom on Hα</think>', [
    { id: 'chatcmpl-tool-1', type: 'function', function: { name: 'spectral_visualization_tool', arguments: '{"wavelength_range": [6500, 6600], "label": "H-alpha"}' } },
  ]);
  assert.equal(p.toolCall?.source, 'tool_calls');
  assert.equal(p.toolCall?.id, 'chatcmpl-tool-1');
  assert.deepEqual(p.toolCall?.arguments, { wavelength_range: [6500, 6600], label: 'H-alpha' });
});

test('malformed tool-call JSON is reported, not thrown', () => {
  const p = parseAssistantTurn('<think>a</think>\n<tool_call>\n{"name": "spectral_visualization_tool", "arguments": {"wavelength_range": [6500, 6600}\n</tool_call>');
  assert.ok(p.toolCall);
  assert.equal(p.toolCall.arguments, null);
  assert.match(p.toolCall.error ?? '', /not valid JSON/);
  const q = parseAssistantTurn('', [{ id: 'x', function: { name: 'spectral_visualization_tool', arguments: '{"wavelength_range": [65' } }]);
  assert.match(q.toolCall?.error ?? '', /not valid JSON/);
});

test('double-encoded arguments and a missing closing tag are tolerated', () => {
  const p = parseAssistantTurn('<think>a</think><tool_call>{"name": "spectral_visualization_tool", "arguments": "{\\"wavelength_range\\": [4000, 4100]}"}');
  assert.deepEqual(p.toolCall?.arguments, { wavelength_range: [4000, 4100] });
});

test('several tool calls in one turn: the first runs and a warning says so', () => {
  const p = parseAssistantTurn(`<think>a</think>\n<tool_call>\n{"name": "spectral_visualization_tool", "arguments": {"wavelength_range": [1, 2]}}\n</tool_call>\n<tool_call>\n{"name": "spectral_visualization_tool", "arguments": {"wavelength_range": [3, 4]}}\n</tool_call>`);
  assert.equal(p.toolCallCount, 2);
  assert.deepEqual(p.toolCall?.arguments, { wavelength_range: [1, 2] });
  assert.match(p.warnings[0], /only the first/);
});

test('format errors: missing think, two answers, unbalanced think tags', () => {
  const noThink = extractAnswer('<answer>\\boxed{YES}</answer>');
  assert.equal(noThink.verdict, 'YES');
  assert.equal(noThink.formatOk, false);
  assert.match(noThink.formatErrors.join(), /no <think>/);

  const two = extractAnswer('<think>a</think><answer>\\boxed{YES}</answer><answer>\\boxed{NO}</answer>');
  assert.equal(two.formatOk, false);
  assert.equal(two.verdict, 'NO', 'the last answer block wins when there are several');
  assert.equal(two.via, 'last-answer');

  const unbalanced = extractAnswer('<think>a</think><think>b<answer>\\boxed{NO}</answer>');
  assert.equal(unbalanced.verdict, 'NO');
  assert.equal(unbalanced.formatOk, false);
  assert.match(unbalanced.formatErrors.join(), /unbalanced think tags/);
});

test('fallback order: last <answer> block, then any \\boxed, then the first standalone YES/NO', () => {
  const unclosed = extractAnswer('<think>a</think><answer>It is a white dwarf: \\boxed{YES}');
  assert.deepEqual([unclosed.verdict, unclosed.via, unclosed.formatOk], ['YES', 'last-answer', false]);

  const plainWord = extractAnswer('<think>a</think><answer>yes</answer>');
  assert.deepEqual([plainWord.verdict, plainWord.via], ['YES', 'last-answer']);

  const boxedOutside = extractAnswer('<think>The answer is \\boxed{NO}.</think> Final: \\boxed{NO}');
  assert.deepEqual([boxedOutside.verdict, boxedOutside.via], ['NO', 'boxed']);

  const word = extractAnswer('<think>There is no TiO; no ZrO either.</think>\nFinal answer: YES');
  assert.deepEqual([word.verdict, word.via], ['YES', 'word'], 'lower-case "no" in prose is not a verdict');

  const nothing = extractAnswer('<think>I cannot decide.</think>');
  assert.deepEqual([nothing.verdict, nothing.via, nothing.formatOk], [null, 'none', false]);
});

test('an answer box holding something else is a format error', () => {
  const a = extractAnswer('<think>a</think><answer>\\boxed{MAYBE}</answer>');
  assert.equal(a.verdict, null);
  assert.match(a.formatErrors.join(), /MAYBE/);
});

test('think text whose opening tag the chat template supplied is still read', () => {
  assert.deepEqual(extractThinks('I look at Hα first.\n</think>\n<tool_call>{}</tool_call>'), ['I look at Hα first.']);
  assert.deepEqual(extractThinks('<think>one</think> text <think>two'), ['one', 'two']);
});

test('an empty or null reply parses to nothing', () => {
  const p = parseAssistantTurn(null);
  assert.deepEqual([p.thinks, p.toolCall, p.hasAnswer, p.answer.verdict], [[], null, false, null]);
});

test('text tool-call arguments are kept exactly as written, so the tool can echo 12000.0 as 12000.0', () => {
  const p = parseAssistantTurn('<think>a</think>\n<tool_call>\n{"name": "spectral_visualization_tool", "arguments": {"wavelength_range": [12000.0, 13000], "label": "a \\"quoted\\" {brace}"}}\n</tool_call>');
  assert.equal(p.toolCall?.rawArguments, '{"wavelength_range": [12000.0, 13000], "label": "a \\"quoted\\" {brace}"}');
  assert.deepEqual(p.toolCall?.arguments, { wavelength_range: [12000, 13000], label: 'a "quoted" {brace}' });
});

test('calls written back as text use the training spelling and parse back to the same call', () => {
  const text = formatTextToolCall('spectral_visualization_tool', { label: 'Hα region', wavelength_range: [6500, 6600.5] });
  assert.equal(text, '<tool_call>\n{"name": "spectral_visualization_tool", "arguments": {"label": "Hα region", "wavelength_range": [6500, 6600.5]}}\n</tool_call>');
  const p = parseAssistantTurn(text);
  assert.deepEqual(p.toolCall?.arguments, { label: 'Hα region', wavelength_range: [6500, 6600.5] });
  assert.equal(p.toolCall?.rawArguments, '{"label": "Hα region", "wavelength_range": [6500, 6600.5]}');
});
