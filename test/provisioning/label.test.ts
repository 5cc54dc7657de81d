/** Device labels: the PNG decodes (pngjs), its QR code scans (jsQR), its text is drawn legibly. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import jsQRModule from 'jsqr';
import QRCode from 'qrcode';
import { renderLabel } from '../../src/provisioning/label.ts';
import {
  layoutLabel,
  MODULE_PX,
  QUIET_MODULES,
  type LabelInput,
} from '../../src/provisioning/label-layout.ts';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphPixels } from '../../src/provisioning/label-font.ts';

// jsqr is CommonJS with an `exports.default`: NodeNext types the default import as the module.
const jsQR = jsQRModule.default;

const INPUT: LabelInput = { deviceId: 'tracker-0042', serial: 'SN-2025-000042', claimCode: 'K7QX-M2PD-9TZA' };

function decodePng(png: Buffer): PNG {
  return PNG.sync.read(png);
}

/** Reads one line of text back from the image by matching each cell against the font. */
function readText(image: PNG, x: number, y: number, scale: number, length: number): string {
  const candidates = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/ '];
  const dark = (px: number, py: number) => (image.data[(py * image.width + px) * 4] ?? 255) < 128;
  let text = '';
  for (let i = 0; i < length; i++) {
    const cellX = x + i * GLYPH_ADVANCE * scale;
    const sample = (gx: number, gy: number) =>
      dark(cellX + gx * scale + Math.floor(scale / 2), y + gy * scale + Math.floor(scale / 2));
    const match = candidates.find((c) => {
      const lit = glyphPixels(c);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++)
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) if (lit(gx, gy) !== sample(gx, gy)) return false;
      return true;
    });
    text += match ?? '?';
  }
  return text;
}

describe('renderLabel', () => {
  it('renders a PNG of the layout size whose QR code scans as the claim URI', () => {
    const { png } = renderLabel(INPUT);
    const image = decodePng(png);
    const layout = layoutLabel(INPUT);
    const qrSize = QRCode.create('flotilla:claim:K7QX-M2PD-9TZA', { errorCorrectionLevel: 'M' }).modules.size;
    const qrPx = (qrSize + 2 * QUIET_MODULES) * MODULE_PX;
    assert.deepEqual([image.width, image.height], [layout.width, layout.height]);
    assert.ok(image.height >= qrPx, 'the whole QR code with its quiet zone fits');
    assert.ok(image.width > qrPx + 14 * GLYPH_ADVANCE * 3, 'the serial sits beside the QR code');
    const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    assert.equal(code?.data, 'flotilla:claim:K7QX-M2PD-9TZA');
  });

  it('encodes the claim URL instead when one is given', () => {
    const url = 'https://fleet.example.com/claim?code=K7QX-M2PD-9TZA';
    const image = decodePng(renderLabel({ ...INPUT, claimUrl: url }).png);
    assert.equal(jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data, url);
  });

  it('draws the serial, the claim code and the device id in the bitmap font', () => {
    const image = decodePng(renderLabel(INPUT).png);
    const printed = layoutLabel(INPUT).texts.map((t) => readText(image, t.x, t.y, t.scale, t.text.length));
    assert.deepEqual(printed, [
      'SERIAL',
      INPUT.serial,
      'CLAIM CODE',
      INPUT.claimCode,
      'DEVICE ID',
      INPUT.deviceId,
    ]);
  });

  it('wraps long values instead of cutting them off', () => {
    const serial = 'SERIAL-0123456789-ABCDEFGHIJ-XYZ';
    const texts = layoutLabel({ ...INPUT, serial, deviceId: serial }).texts.map((t) => t.text);
    assert.deepEqual(texts.slice(0, 3), ['SERIAL', serial.slice(0, 20), serial.slice(20)]);
    assert.ok(!texts.includes('DEVICE ID'), 'device id equal to the serial is not printed twice');
  });

  it('renders an SVG with text elements and the same QR modules', () => {
    const { svg } = renderLabel({ ...INPUT, serial: 'A<&>"B' });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<text [^>]*>A&lt;&amp;&gt;&quot;B<\/text>/);
    assert.match(svg, /<text [^>]*>K7QX-M2PD-9TZA<\/text>/);
    const layout = layoutLabel(INPUT);
    let dark = 0;
    for (let r = 0; r < layout.qr.size; r++)
      for (let c = 0; c < layout.qr.size; c++) if (layout.qr.isDark(r, c)) dark++;
    assert.equal(renderLabel(INPUT).svg.match(/M\d+ \d+h/g)?.length, dark);
  });
});
