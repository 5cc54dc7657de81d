/** Draws a label layout into a PNG: QR modules as squares, text with the built-in bitmap font. */
import { PNG } from 'pngjs';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphPixels, hasGlyph } from './label-font.ts';
import type { LabelLayout, TextRun } from './label-layout.ts';

class Canvas {
  readonly png: PNG;
  constructor(width: number, height: number) {
    this.png = new PNG({ width, height });
    this.png.data.fill(0xff); // white and opaque
  }

  /** Fills a black rectangle, clipped to the image. */
  fillRect(x: number, y: number, w: number, h: number): void {
    const { width, height, data } = this.png;
    for (let row = Math.max(0, y); row < Math.min(height, y + h); row++) {
      for (let col = Math.max(0, x); col < Math.min(width, x + w); col++) {
        const i = (row * width + col) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
    }
  }
}

function drawText(canvas: Canvas, run: TextRun): void {
  [...run.text].forEach((char, index) => {
    const lit = glyphPixels(hasGlyph(char) ? char : '?');
    const originX = run.x + index * GLYPH_ADVANCE * run.scale;
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++)
      for (let gx = 0; gx < GLYPH_WIDTH; gx++)
        if (lit(gx, gy))
          canvas.fillRect(originX + gx * run.scale, run.y + gy * run.scale, run.scale, run.scale);
  });
}

export function renderLabelPng(layout: LabelLayout): Buffer {
  const canvas = new Canvas(layout.width, layout.height);
  const { qr } = layout;
  for (let row = 0; row < qr.size; row++)
    for (let col = 0; col < qr.size; col++)
      if (qr.isDark(row, col))
        canvas.fillRect(qr.x + col * qr.modulePx, qr.y + row * qr.modulePx, qr.modulePx, qr.modulePx);
  for (const run of layout.texts) drawText(canvas, run);
  return PNG.sync.write(canvas.png);
}
