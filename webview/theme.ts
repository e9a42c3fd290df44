// Plot colours from VS Code's theme variables, resolved to concrete rgb()/rgba() strings the
// canvas understands, and re-resolved whenever VS Code switches the body's theme class.
import type { PlotColours } from './plot';

/** A theme colour: VS Code's variable, the fallback when the theme lacks it, and an alpha applied on top. */
type ColourSpec = [variable: string, fallback: string, alpha: number];

/**
 * Each spec as a concrete `rgba()` string, all in one style pass: one probe element per colour, read
 * after all are set (setting and reading one probe at a time cost a style recalculation each, ~2 ms
 * of the editor's first paint).
 */
function resolveColours(specs: readonly ColourSpec[]): string[] {
  const host = document.createElement('div');
  host.style.display = 'none';
  const probes = specs.map(([variable, fallback]) => {
    const probe = document.createElement('span');
    probe.style.color = `var(${variable}, ${fallback})`;
    return host.appendChild(probe);
  });
  document.body.appendChild(host);
  const out = probes.map((probe, i) => {
    const m = /rgba?\(([^)]+)\)/.exec(getComputedStyle(probe).color);
    const [r, g, b, a = 1] = m ? m[1].split(/[ ,/]+/).filter(Boolean).map(Number) : [128, 128, 128, 1];
    return `rgba(${r}, ${g}, ${b}, ${+(a * specs[i][2]).toFixed(3)})`;
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
  const named = {
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
  } satisfies Record<keyof Omit<PlotColours, 'arms'>, ColourSpec>;
  const arms: ColourSpec[] = [
    ['--vscode-terminal-ansiCyan', light ? '#0598bc' : '#29b8db', 1],
    ['--vscode-terminal-ansiMagenta', light ? '#bc05bc' : '#bc3fbc', 1],
    ['--vscode-terminal-ansiBrightYellow', light ? '#b5ba00' : '#f5f543', 1],
  ];
  const keys = Object.keys(named) as Array<keyof typeof named>;
  const resolved = resolveColours([...keys.map((k) => named[k]), ...arms]);
  const colours = Object.fromEntries(keys.map((k, i) => [k, resolved[i]])) as Omit<PlotColours, 'arms'>;
  return { ...colours, arms: resolved.slice(keys.length) };
}

/** Call `onChange` whenever VS Code changes the theme (it swaps body classes and the style attribute). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(() => onChange()).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
}
