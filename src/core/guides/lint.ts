// Author checks beyond validity, shown as warnings while typing: a window whose label names a line or
// a wavelength the window's range does not contain (a typo in the range or in the label sends the
// model to the wrong place). Positions are those of the label's words, so the squiggle is on them.
import type { GuideDiagnostic, GuideWindow } from './guide';
import { findLineNames } from './line-names';

/** How far outside a window a named wavelength may sit (air/vacuum and rounding differences), Å. */
const TOLERANCE = 3;

/**
 * Warnings for labels that do not match their window. `windows` are the parsed windows (validateGuide's),
 * in file order; labels are found on `label:` lines of the front matter's block list.
 */
export function lintWindowLabels(text: string, windows: GuideWindow[]): GuideDiagnostic[] {
  const lines = text.split('\n');
  if (!/^\uFEFF?---\s*$/.test(lines[0] ?? '')) return [];
  const labelLines: Array<{ line: number; col: number; value: string }> = [];
  let inWindows = false;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i].replace(/\r$/, '');
    if (/^---\s*$/.test(l)) break;
    if (/^\S/.test(l)) inWindows = /^windows\s*:/.test(l);
    const m = inWindows ? /^(\s*(?:-\s+)?label\s*:\s*)(.*?)\s*$/.exec(l) : null;
    if (m) labelLines.push({ line: i, col: m[1].length, value: m[2] });
  }
  // Flow-style or otherwise unusual lists: nothing reliable to point at.
  if (labelLines.length !== windows.length) return [];
  const out: GuideDiagnostic[] = [];
  windows.forEach((w, i) => {
    const { line, col, value } = labelLines[i];
    const [lo, hi] = w.range;
    const inside = (x: number) => x >= lo - TOLERANCE && x <= hi + TOLERANCE;
    const at = (start: number, end: number) => ({ line, col: col + start, endLine: line, endCol: col + end });
    const names = findLineNames(value);
    const covered: Array<[number, number]> = [];
    for (const n of names) {
      covered.push([n.start, n.end]);
      // Only names that designate particular lines (Hα, He II 4686), not a whole band system (TiO).
      if (n.lines.length === n.group.lines.length && n.group.lines.length > 1) continue;
      if (n.lines.some((m) => inside(m.air) || (m.airEnd !== undefined && m.airEnd >= lo && m.air <= hi))) continue;
      const where = n.lines.map((m) => `${m.label} ${m.air}${m.airEnd ? `–${m.airEnd}` : ''} Å`).join(', ');
      out.push({ severity: 'warning', message: `window ${i + 1}: the label names ${n.text} (${where}), outside the window [${lo}, ${hi}] Å`, range: at(n.start, n.end) });
    }
    // Bare wavelengths in the label ("band head 4737 Å") that no line name already covered.
    for (const m of value.matchAll(/(?<![\w.])(\d{4,5}(?:\.\d+)?)(?![\w.])/g)) {
      const start = m.index!;
      if (covered.some(([a, b]) => start >= a && start < b)) continue;
      const x = Number(m[1]);
      if (x < 3000 || x > 11000 || inside(x)) continue;
      out.push({ severity: 'warning', message: `window ${i + 1}: the label mentions ${m[1]} Å, outside the window [${lo}, ${hi}] Å`, range: at(start, start + m[1].length) });
    }
  });
  return out;
}
