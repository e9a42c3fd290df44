// Guides: the expert diagnostic text an inspection is asked with. A guide file is Markdown with YAML
// front matter; the body (minus HTML comments) is what the model reads after the task sentence.
// One parser/validator serves the loop, the CLI and the editor's live diagnostics, so every
// diagnostic carries a position in the file.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import { SpecVetError } from '../errors';

export interface GuideWindow {
  /** [min, max] in Å, rest frame when the spectrum has a redshift (the tool's frame). */
  range: [number, number];
  label: string;
}

export type GuideSurvey = 'LAMOST' | 'SDSS' | 'DESI';

export interface Guide {
  id: string;
  version: string;
  /** The target class's name as the task sentence says it, e.g. "Carbon Star (C-type)". */
  target: string;
  /** The question a person is answering, for display. */
  question: string;
  /** Always ["YES", "NO"]: the answer extraction reads exactly these. */
  answers: ['YES', 'NO'];
  /** Suggested diagnostic windows, in the order an inspection should open them. */
  windows: GuideWindow[];
  /** Surveys the guide was written for (optional; informs the coverage check). */
  surveys: GuideSurvey[];
  /** Markdown body as written (after the front matter). */
  body: string;
  /** Body as the model reads it: HTML comments removed, trimmed. */
  promptText: string;
  /** The whole file text and its sha256, recorded in traces. */
  text: string;
  sha256: string;
  /** Where it came from: a file path or "builtin:<id>". */
  source: string;
}

export interface GuidePosition {
  /** 0-based line and column (UTF-16 code units), as editors count. */
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export interface GuideDiagnostic {
  message: string;
  severity: 'error' | 'warning' | 'info';
  range: GuidePosition;
}

export interface GuideValidation {
  /** Present when there is no error-severity diagnostic. */
  guide?: Guide;
  diagnostics: GuideDiagnostic[];
}

/** Wavelength coverage of each survey's low-resolution spectra, Å (protocol page §8). */
export const SURVEY_COVERAGE: Record<GuideSurvey, [number, number]> = {
  LAMOST: [3690, 9100],
  SDSS: [3600, 10400],
  DESI: [3600, 9824],
};

export const BUILTIN_GUIDE_IDS = ['cv', 'carbon', 's-star', 'm-giant', 'white-dwarf', 'o-star', 'b-star', 'a-star'] as const;

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const KNOWN_KEYS = new Set(['id', 'version', 'target', 'question', 'answers', 'windows', 'surveys']);

/** Parses and checks a guide file. Never throws: every problem is a positioned diagnostic. */
export function validateGuide(text: string, source = 'guide'): GuideValidation {
  const diagnostics: GuideDiagnostic[] = [];
  const lineStarts = computeLineStarts(text);
  const at = (offset: number, end = offset): GuidePosition => {
    const a = offsetToLineCol(lineStarts, offset);
    const b = offsetToLineCol(lineStarts, Math.max(end, offset));
    return { line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  };
  const push = (severity: GuideDiagnostic['severity'], message: string, range: GuidePosition) => diagnostics.push({ severity, message, range });

  const fm = splitFrontMatter(text);
  if (!fm) {
    push('error', 'a guide starts with YAML front matter between two "---" lines', at(0, lineStarts.length > 1 ? lineStarts[1] - 1 : text.length));
    return { diagnostics };
  }
  const base = fm.yamlStart;
  const lc = new LineCounter();
  const doc = parseDocument(fm.yaml, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  for (const e of doc.errors) push('error', `YAML: ${e.message.split('\n')[0]}`, at(base + e.pos[0], base + e.pos[1]));
  for (const w of doc.warnings) push('warning', `YAML: ${w.message.split('\n')[0]}`, at(base + w.pos[0], base + w.pos[1]));
  if (doc.errors.length) return { diagnostics };

  const fmRange = at(0, base + fm.yaml.length);
  const root = doc.contents;
  if (!isMap(root)) {
    push('error', 'the front matter must be a mapping of keys (id, version, target, question, answers, windows)', fmRange);
    return { diagnostics };
  }
  const nodeRange = (n: YamlNode | null | undefined): GuidePosition => {
    const r = n?.range;
    return r ? at(base + r[0], base + r[1]) : fmRange;
  };
  const fields = new Map<string, { key: YamlNode; value: YamlNode | null }>();
  for (const pair of root.items) {
    const key = pair.key as YamlNode;
    const name = isScalar(key) ? String(key.value) : '';
    if (!KNOWN_KEYS.has(name)) push('warning', `unknown key '${name}' (known: ${[...KNOWN_KEYS].join(', ')})`, nodeRange(key));
    fields.set(name, { key, value: (pair.value as YamlNode | null) ?? null });
  }

  const stringField = (name: string, required: boolean): string | undefined => {
    const f = fields.get(name);
    if (!f) {
      if (required) push('error', `missing '${name}'`, fmRange);
      return undefined;
    }
    const v = f.value;
    if (!isScalar(v) || v.value === null || (typeof v.value !== 'string' && typeof v.value !== 'number') || String(v.value).trim() === '') {
      push('error', `'${name}' must be a non-empty text`, nodeRange(v ?? f.key));
      return undefined;
    }
    return String(v.value).trim();
  };

  const id = stringField('id', true);
  if (id !== undefined && !ID_PATTERN.test(id)) {
    push('error', `'id' must be lower-case letters, digits, '.', '_' or '-' (got '${id}')`, nodeRange(fields.get('id')!.value));
  }
  const version = stringField('version', true);
  const target = stringField('target', true);
  const question = stringField('question', true);

  // answers: exactly YES and NO, because the answer extraction reads \boxed{YES} / \boxed{NO}.
  const answersField = fields.get('answers');
  if (!answersField) push('error', "missing 'answers' (must be [YES, NO])", fmRange);
  else {
    const v = answersField.value;
    const items = isSeq(v) ? v.items.map((i) => (isScalar(i) ? String(i.value).trim().toUpperCase() : null)) : null;
    const ok = items && items.length === 2 && items.includes('YES') && items.includes('NO');
    if (!ok) push('error', "'answers' must be the list [YES, NO]: the model answers \\boxed{YES} or \\boxed{NO}", nodeRange(v ?? answersField.key));
  }

  const surveys: GuideSurvey[] = [];
  const surveysField = fields.get('surveys');
  if (surveysField) {
    const v = surveysField.value;
    if (!isSeq(v)) push('error', "'surveys' must be a list such as [LAMOST, SDSS, DESI]", nodeRange(v ?? surveysField.key));
    else
      for (const item of v.items) {
        const name = isScalar(item) ? String(item.value).toUpperCase() : '';
        if (name === 'LAMOST' || name === 'SDSS' || name === 'DESI') surveys.push(name);
        else push('error', `unknown survey '${isScalar(item) ? String(item.value) : '?'}' (LAMOST, SDSS or DESI)`, nodeRange(item as YamlNode));
      }
  }
  const coverage = coverageOf(surveys);

  const windows: GuideWindow[] = [];
  const windowsField = fields.get('windows');
  if (!windowsField) push('error', "missing 'windows' (a list of {range: [min, max], label})", fmRange);
  else if (!isSeq(windowsField.value)) push('error', "'windows' must be a list of {range: [min, max], label}", nodeRange(windowsField.value ?? windowsField.key));
  else {
    const seq = windowsField.value;
    if (seq.items.length === 0) push('warning', "'windows' is empty: the scripted inspector will only show the overview", nodeRange(seq));
    seq.items.forEach((item, i) => {
      const w = checkWindow(item as YamlNode, i, coverage, surveys, nodeRange, push);
      if (w) windows.push(w);
    });
  }

  const bodyText = text.slice(fm.bodyStart);
  const promptText = bodyText.replace(/<!--[\s\S]*?-->/g, '').trim();
  if (!promptText) push('warning', 'the guide has no body: the model gets only the task sentence, no diagnostic indicators', at(fm.bodyStart, text.length));

  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const guide: Guide = {
    id: id!,
    version: version!,
    target: target!,
    question: question!,
    answers: ['YES', 'NO'],
    windows,
    surveys,
    body: bodyText,
    promptText,
    text,
    sha256: sha256Hex(text),
    source,
  };
  return { guide, diagnostics };
}

function checkWindow(
  item: YamlNode,
  i: number,
  coverage: [number, number],
  surveys: GuideSurvey[],
  nodeRange: (n: YamlNode | null | undefined) => GuidePosition,
  push: (s: GuideDiagnostic['severity'], m: string, r: GuidePosition) => void,
): GuideWindow | null {
  const where = `window ${i + 1}`;
  if (!isMap(item)) {
    push('error', `${where} must be {range: [min, max], label}`, nodeRange(item));
    return null;
  }
  const rangeNode = item.get('range', true) as YamlNode | undefined;
  const labelNode = item.get('label', true) as YamlNode | undefined;
  for (const pair of item.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (k !== 'range' && k !== 'label') push('warning', `${where}: unknown key '${k}' (range, label)`, nodeRange(pair.key as YamlNode));
  }
  let ok = true;
  let label = '';
  if (!labelNode || !isScalar(labelNode) || String(labelNode.value ?? '').trim() === '') {
    push('error', `${where}: 'label' must be a non-empty text naming the feature`, nodeRange(labelNode ?? item));
    ok = false;
  } else label = String(labelNode.value).trim();
  if (!rangeNode || !isSeq(rangeNode)) {
    push('error', `${where}: 'range' must be [min, max] in Å`, nodeRange(rangeNode ?? item));
    return null;
  }
  const nums = rangeNode.items.map((n) => (isScalar(n) && typeof n.value === 'number' && Number.isFinite(n.value) ? n.value : NaN));
  if (nums.length !== 2 || nums.some((n) => Number.isNaN(n))) {
    push('error', `${where}: 'range' must hold exactly two numbers [min, max] in Å`, nodeRange(rangeNode));
    return null;
  }
  const [lo, hi] = nums;
  if (lo >= hi) {
    push('error', `${where}: range [${lo}, ${hi}] is reversed or empty (min must be below max)`, nodeRange(rangeNode));
    return null;
  }
  const scope = surveys.length ? surveys.join('/') : 'any supported survey';
  if (hi <= coverage[0] || lo >= coverage[1]) {
    push('error', `${where}: range [${lo}, ${hi}] Å lies outside the coverage of ${scope} (${coverage[0]}–${coverage[1]} Å)`, nodeRange(rangeNode));
    return null;
  }
  if (lo < coverage[0] || hi > coverage[1]) {
    push('warning', `${where}: range [${lo}, ${hi}] Å extends beyond the coverage of ${scope} (${coverage[0]}–${coverage[1]} Å)`, nodeRange(rangeNode));
  }
  return ok ? { range: [lo, hi], label } : null;
}

/** Intersection of the named surveys' coverage (a window must exist in all of them), or the union when none is named. */
function coverageOf(surveys: GuideSurvey[]): [number, number] {
  const list = surveys.length ? surveys : (Object.keys(SURVEY_COVERAGE) as GuideSurvey[]);
  const ranges = list.map((s) => SURVEY_COVERAGE[s]);
  if (surveys.length) return [Math.max(...ranges.map((r) => r[0])), Math.min(...ranges.map((r) => r[1]))];
  return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
}

/** Parses a guide, throwing one SpecVetError listing every error with its line. */
export function parseGuide(text: string, source: string): Guide {
  const v = validateGuide(text, source);
  if (v.guide) return v.guide;
  const errs = v.diagnostics.filter((d) => d.severity === 'error').map((d) => `line ${d.range.line + 1}: ${d.message}`);
  throw new SpecVetError('guide', `invalid guide: ${errs.join('; ')}`, source);
}

/** The folder of built-in guides: `guides/` at the package root (found by walking up to specvet's package.json). */
export function builtinGuidesDir(start = __dirname): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'specvet' && fs.existsSync(path.join(dir, 'guides'))) return path.join(dir, 'guides');
      } catch {
        // an unreadable package.json is not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new SpecVetError('io', 'cannot find the built-in guides folder (guides/ next to specvet package.json)', start);
    dir = up;
  }
}

export function isBuiltinGuideId(s: string): boolean {
  return (BUILTIN_GUIDE_IDS as readonly string[]).includes(s);
}

/** A built-in guide id (`carbon`) or a path to a `.guide.md` / `.md` file. */
export function loadGuide(idOrPath: string, opts: { guidesDir?: string } = {}): Guide {
  if (isBuiltinGuideId(idOrPath) && !fs.existsSync(idOrPath)) {
    const file = path.join(opts.guidesDir ?? builtinGuidesDir(), `${idOrPath}.guide.md`);
    const g = parseGuide(readText(file), file);
    return { ...g, source: `builtin:${idOrPath}` };
  }
  if (!/[\\/.]/.test(idOrPath) && !fs.existsSync(idOrPath)) {
    throw new SpecVetError('usage', `unknown guide '${idOrPath}': use one of ${BUILTIN_GUIDE_IDS.join(', ')} or a path to a .guide.md file`);
  }
  return parseGuide(readText(idOrPath), idOrPath);
}

export function listBuiltinGuides(opts: { guidesDir?: string } = {}): Guide[] {
  return BUILTIN_GUIDE_IDS.map((id) => loadGuide(id, opts));
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpecVetError('io', code === 'ENOENT' ? 'guide file not found' : `cannot read guide (${code ?? String(err)})`, file);
  }
}

interface FrontMatter {
  yaml: string;
  yamlStart: number;
  bodyStart: number;
}

function splitFrontMatter(text: string): FrontMatter | null {
  const t = text.startsWith('\uFEFF') ? 1 : 0;
  const open = /^---[ \t]*\r?\n/.exec(text.slice(t));
  if (!open) return null;
  const yamlStart = t + open[0].length;
  const close = /^---[ \t]*(\r?\n|$)/m;
  const rest = text.slice(yamlStart);
  const m = close.exec(rest);
  if (!m) return null;
  return { yaml: rest.slice(0, m.index), yamlStart, bodyStart: yamlStart + m.index + m[0].length };
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function offsetToLineCol(starts: number[], offset: number): { line: number; col: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, col: offset - starts[lo] };
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
