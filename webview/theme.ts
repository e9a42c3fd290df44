// Plot colours from VS Code's theme variables, resolved to concrete rgb()/rgba() strings the
// canvas understands, and re-resolved whenever VS Code switches the body's theme class.
import type { PlotColours } from './plot';

/**
 * The computed rgba of each CSS colour expression (e.g. `var(--vscode-charts-blue, #3794ff)`), all in
 * one style pass: one probe element per expression, read after all are set (setting and reading one
 * probe at a time cost a style recalculation each, ~2 ms of the editor's first paint).
 */
function resolveAll(exprs: readonly string[]): Array<[number, number, number, number]> {
  const host = document.createElement('div');
  host.style.display = 'none';
  const probes = exprs.map((expr) => {
    const probe = document.createElement('span');
    probe.style.color = expr;
    return host.appendChild(probe);
  });
  document.body.appendChild(host);
  const out = probes.map((probe) => {
    const m = /rgba?\(([^)]+)\)/.exec(getComputedStyle(probe).color);
    if (!m) return [128, 128, 128, 1] as [number, number, number, number];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p[3] ?? 1] as [number, number, number, number];
  });
  host.remove();
  return out;
}

export type ThemeKind = 'light' | 'dark' | 'high-contrast';

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast') || c.contains('vscode-high-contrast-light')) return 'high-contrast';
  return c.contains('vscode-light') ? 'light' : 'dark';
}

export function plotColours(): PlotColours {
  const light = themeKind() === 'light';
  // [VS Code variable, fallback when the theme lacks it, alpha applied on top]
  const wanted = {
    foreground: ['--vscode-editor-foreground', light ? '#333333' : '#cccccc', 1],
    muted: ['--vscode-descriptionForeground', light ? '#717171' : '#9d9d9d', 1],
    grid: ['--vscode-editor-foreground', light ? '#333333' : '#cccccc', 0.12],
    flux: ['--vscode-charts-blue', light ? '#1a85ff' : '#3794ff', 1],
    band: ['--vscode-charts-blue', light ? '#1a85ff' : '#3794ff', 0.22],
    masked: ['--vscode-charts-red', light ? '#e51400' : '#f14c4c', 1],
    sky: ['--vscode-charts-green', light ? '#388a34' : '#89d185', 0.85],
    line: ['--vscode-charts-orange', light ? '#d18616' : '#d18616', 0.9],
    molecular: ['--vscode-charts-purple', light ? '#652d90' : '#b180d7', 0.9],
    telluric: ['--vscode-charts-yellow', light ? '#bf8803' : '#cca700', 0.16],
    selection: ['--vscode-editor-selectionBackground', light ? '#add6ff' : '#264f78', 0.5],
    background: ['--vscode-editor-background', light ? '#ffffff' : '#1e1e1e', 1],
    arm0: ['--vscode-terminal-ansiCyan', light ? '#0598bc' : '#29b8db', 1],
    arm1: ['--vscode-terminal-ansiMagenta', light ? '#bc05bc' : '#bc3fbc', 1],
    arm2: ['--vscode-terminal-ansiBrightYellow', light ? '#b5ba00' : '#f5f543', 1],
  } satisfies Record<string, [string, string, number]>;
  const names = Object.keys(wanted) as Array<keyof typeof wanted>;
  const rgba = resolveAll(names.map((n) => `var(${wanted[n][0]}, ${wanted[n][1]})`));
  const c = {} as Record<keyof typeof wanted, string>;
  names.forEach((n, i) => {
    const [r, g, b, a] = rgba[i];
    c[n] = `rgba(${r}, ${g}, ${b}, ${+(a * wanted[n][2]).toFixed(3)})`;
  });
  const { arm0, arm1, arm2, ...rest } = c;
  return { ...rest, arms: [arm0, arm1, arm2] };
}

/** Call `onChange` whenever VS Code changes the theme (it swaps body classes and the style attribute). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(() => onChange()).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
}
