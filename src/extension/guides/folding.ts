// Folding ranges of a guide (pure, no vscode import): the front matter, then Markdown sections by heading.

/** The front matter, and each Markdown section down to the next heading of the same or higher level. */
export function guideFoldingRanges(lines: string[]): Array<{ start: number; end: number; kind?: 'comment' | 'region' }> {
  const out: Array<{ start: number; end: number; kind?: 'comment' | 'region' }> = [];
  let bodyStart = 0;
  if (/^---\s*$/.test(lines[0] ?? '')) {
    const close = lines.findIndex((l, i) => i > 0 && /^---\s*$/.test(l));
    if (close > 0) {
      out.push({ start: 0, end: close, kind: 'region' });
      bodyStart = close + 1;
    }
  }
  const headings: Array<{ line: number; level: number }> = [];
  for (let i = bodyStart; i < lines.length; i++) {
    const h = /^(#{1,6})\s/.exec(lines[i]);
    if (h) headings.push({ line: i, level: h[1].length });
  }
  let last = lines.length - 1;
  while (last > bodyStart && lines[last].trim() === '') last--;
  headings.forEach((h, k) => {
    const next = headings.slice(k + 1).find((x) => x.level <= h.level);
    let end = next ? next.line - 1 : last;
    while (end > h.line && lines[end].trim() === '') end--;
    if (end > h.line) out.push({ start: h.line, end });
  });
  return out;
}
