// Plot colours from VS Code's theme variables, resolved to concrete rgb()/rgba() strings the
// canvas understands, and re-resolved whenever VS Code switches the body's theme class.
import type { PlotColours } from './plot';

let probe: HTMLElement | null = null;

/** The computed rgb of a CSS colour expression (e.g. `var(--vscode-charts-blue, #3794ff)`). */
function resolve(expr: string): [number, number, number, number] {
  if (!probe) {
    probe = document.createElement('span');
    probe.style.display = 'none';
    document.body.appendChild(probe);
  }
  probe.style.color = '';
  probe.style.color = expr;
  const m = /rgba?\(([^)]+)\)/.exec(getComputedStyle(probe).color);
  if (!m) return [128, 128, 128, 1];
  const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p[3] ?? 1];
}

function colour(varName: string, fallback: string, alpha = 1): string {
  const [r, g, b, a] = resolve(`var(${varName}, ${fallback})`);
  return `rgba(${r}, ${g}, ${b}, ${+(a * alpha).toFixed(3)})`;
}

export type ThemeKind = 'light' | 'dark' | 'high-contrast';

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast') || c.contains('vscode-high-contrast-light')) return 'high-contrast';
  return c.contains('vscode-light') ? 'light' : 'dark';
}

export function plotColours(): PlotColours {
  const light = themeKind() === 'light';
  return {
    foreground: colour('--vscode-editor-foreground', light ? '#333333' : '#cccccc'),
    muted: colour('--vscode-descriptionForeground', light ? '#717171' : '#9d9d9d'),
    grid: colour('--vscode-editor-foreground', light ? '#333333' : '#cccccc', 0.12),
    flux: colour('--vscode-charts-blue', light ? '#1a85ff' : '#3794ff'),
    band: colour('--vscode-charts-blue', light ? '#1a85ff' : '#3794ff', 0.22),
    masked: colour('--vscode-charts-red', light ? '#e51400' : '#f14c4c'),
    sky: colour('--vscode-charts-green', light ? '#388a34' : '#89d185', 0.85),
    line: colour('--vscode-charts-orange', light ? '#d18616' : '#d18616', 0.9),
    molecular: colour('--vscode-charts-purple', light ? '#652d90' : '#b180d7', 0.9),
    telluric: colour('--vscode-charts-yellow', light ? '#bf8803' : '#cca700', 0.16),
    selection: colour('--vscode-editor-selectionBackground', light ? '#add6ff' : '#264f78', 0.5),
    background: colour('--vscode-editor-background', light ? '#ffffff' : '#1e1e1e'),
    arms: [
      colour('--vscode-terminal-ansiCyan', light ? '#0598bc' : '#29b8db'),
      colour('--vscode-terminal-ansiMagenta', light ? '#bc05bc' : '#bc3fbc'),
      colour('--vscode-terminal-ansiBrightYellow', light ? '#b5ba00' : '#f5f543'),
    ],
  };
}

/** Call `onChange` whenever VS Code changes the theme (it swaps body classes and the style attribute). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(() => onChange()).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
}
