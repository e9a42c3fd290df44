// Tiny DOM builder: text always goes in as text nodes (never innerHTML), so file content
// (header values, object names) cannot become markup.
type Child = Node | string | null | undefined;

export function el(
  tag: string,
  attrs: Record<string, string | null | undefined> = {},
  children: Child[] = [],
  on: Record<string, (e: Event) => void> = {},
): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  for (const [k, fn] of Object.entries(on)) node.addEventListener(k, fn);
  return node;
}

export function clear(node: HTMLElement): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}
