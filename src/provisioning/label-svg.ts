/** Draws a label layout as SVG: the QR code as one path, the text as <text> elements. */
import { GLYPH_HEIGHT } from './label-font.ts';
import type { LabelLayout } from './label-layout.ts';

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

function qrPath(layout: LabelLayout): string {
  const { qr } = layout;
  const parts: string[] = [];
  for (let row = 0; row < qr.size; row++)
    for (let col = 0; col < qr.size; col++)
      if (qr.isDark(row, col))
        parts.push(
          `M${qr.x + col * qr.modulePx} ${qr.y + row * qr.modulePx}h${qr.modulePx}v${qr.modulePx}h-${qr.modulePx}z`,
        );
  return parts.join('');
}

export function renderLabelSvg(layout: LabelLayout): string {
  const { width, height } = layout;
  // Baseline at the bottom of the bitmap font's cell; a monospace cap height is about 0.7 em.
  const texts = layout.texts.map(
    (t) =>
      `  <text x="${t.x}" y="${t.y + GLYPH_HEIGHT * t.scale}" font-family="monospace" font-size="${(GLYPH_HEIGHT * t.scale) / 0.7}">${escapeXml(t.text)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `  <rect width="${width}" height="${height}" fill="#fff"/>`,
    `  <path fill="#000" shape-rendering="crispEdges" d="${qrPath(layout)}"/>`,
    ...texts,
    '</svg>',
    '',
  ].join('\n');
}
