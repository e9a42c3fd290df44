// The figure's scene as SVG (`specvet render --out x.svg`): text as glyph outlines, so the file
// depends on no installed font. Pixel-aligned rectangles carry Agg's exact coverage as opacities;
// the PNG the model sees comes from paint.ts, not from this.
import { aggRectPieces, type RectPiece } from './agg';
import type { Box, Scene } from './figure';
import { GlyphDefs, placeLine } from './text';

function fmt(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

export function sceneToSvg(scene: Scene): string {
  const { width: W, height: H, clip } = scene;
  const parts: string[] = [];
  const defs = new GlyphDefs();
  for (const op of scene.ops) {
    if (op.kind === 'text') {
      for (const u of placeLine(defs, op.style, op.text, op.x, op.y, op.angle)) {
        parts.push(op.angle === 0 ? `<use href="#${u.defId}" x="${fmt(u.m[4])}" y="${fmt(u.m[5])}"/>` : `<use href="#${u.defId}" transform="matrix(0 -1 1 0 ${fmt(u.m[4])} ${fmt(u.m[5])})"/>`);
      }
    } else if (op.kind === 'rects') {
      // Pieces of equal opacity share one path (pixel-aligned, so no antialiasing is involved) unless
      // rectangles overlap, where Agg's separate draws compound their alpha and so must ours.
      const { rects, gray, alpha } = op;
      const color = gray === 0 ? '#000' : `rgb(${gray},${gray},${gray})`;
      const sorted = [...rects].sort((p, q) => p.x0 - q.x0 || p.y0 - q.y0);
      const overlap = sorted.some((r, i) => i > 0 && Math.floor(r.x0) < Math.ceil(sorted[i - 1].x1) && Math.floor(r.y0) < Math.ceil(sorted[i - 1].y1) && Math.floor(sorted[i - 1].y0) < Math.ceil(r.y1));
      const groups: Box[][] = overlap ? rects.map((r) => [r]) : [rects];
      for (const group of groups) {
        const pieces: RectPiece[] = [];
        for (const r of group) pieces.push(...aggRectPieces(r.x0, r.y0, r.x1, r.y1, gray, alpha));
        const byAlpha = new Map<number, string>();
        for (const [x, y, w, h, a] of pieces) byAlpha.set(a, (byAlpha.get(a) ?? '') + `M${x} ${y}h${w}v${h}h${-w}z`);
        for (const [a, d] of byAlpha) parts.push(`<path d="${d}" fill="${color}" fill-opacity="${a}" shape-rendering="crispEdges"/>`);
      }
    } else if (op.kind === 'line') {
      const f2 = (v: number): number => Math.round(v * 100) / 100; // 1/100 px is far below what AA resolves
      const xy = op.xy;
      let d = `M${f2(xy[0])} ${f2(xy[1])}L`;
      for (let i = 2; i < xy.length; i += 2) d += `${f2(xy[i])} ${f2(xy[i + 1])} `;
      const hw = op.width / 2;
      let inside = true;
      for (let i = 0; i < xy.length && inside; i += 2) inside = xy[i] - hw >= clip.x0 && xy[i] + hw <= clip.x1 && xy[i + 1] - hw >= clip.y0 && xy[i + 1] + hw <= clip.y1;
      const [r, g, b] = op.rgb;
      parts.push(
        `<path d="${d.trimEnd()}" fill="none" stroke="rgb(${r},${g},${b})" stroke-opacity="${op.alpha}" stroke-width="${fmt(op.width)}" stroke-linejoin="round" stroke-linecap="square"${inside ? '' : ' clip-path="url(#ax)"'}/>`,
      );
    } else {
      const { x0, y0, x1, y1, r } = op;
      const p =
        `M${fmt(x0 + r)} ${fmt(y1)}L${fmt(x1 - r)} ${fmt(y1)}Q${fmt(x1)} ${fmt(y1)} ${fmt(x1)} ${fmt(y1 - r)}` +
        `L${fmt(x1)} ${fmt(y0 + r)}Q${fmt(x1)} ${fmt(y0)} ${fmt(x1 - r)} ${fmt(y0)}L${fmt(x0 + r)} ${fmt(y0)}` +
        `Q${fmt(x0)} ${fmt(y0)} ${fmt(x0)} ${fmt(y0 + r)}L${fmt(x0)} ${fmt(y1 - r)}Q${fmt(x0)} ${fmt(y1)} ${fmt(x0 + r)} ${fmt(y1)}Z`;
      parts.push(`<path d="${p}" fill="#fff" fill-opacity="0.8" stroke="#000" stroke-opacity="0.8" stroke-width="${fmt(op.edgeWidth)}" stroke-linejoin="miter"/>`);
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<defs><clipPath id="ax"><rect x="${clip.x0}" y="${clip.y0}" width="${clip.x1 - clip.x0}" height="${clip.y1 - clip.y0}"/></clipPath>${defs.svg()}</defs>` +
    `<rect width="${W}" height="${H}" fill="#fff"/>` +
    parts.join('') +
    '</svg>'
  );
}
