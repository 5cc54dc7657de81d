/**
 * Where everything goes on a device label, in pixels: the QR code on the left (with the 4-module
 * quiet zone ISO/IEC 18004 asks for) and the printed serial and claim code beside it. Pure; the
 * SVG and PNG renderers draw the same layout.
 */
import QRCode from 'qrcode';
import { GLYPH_ADVANCE, GLYPH_HEIGHT } from './label-font.ts';

export interface LabelInput {
  deviceId: string;
  /** The serial printed on the device. */
  serial: string;
  /** The owner's claim code, encoded in the QR code and printed. */
  claimCode: string;
  /** When given, the QR code carries this URL instead of `flotilla:claim:<claimCode>`. */
  claimUrl?: string;
}

/** A line of text; `scale` is how many image pixels one font pixel takes. */
export interface TextRun {
  text: string;
  x: number;
  /** Top of the glyph cells. */
  y: number;
  scale: number;
}

export interface LabelLayout {
  width: number;
  height: number;
  qr: {
    content: string;
    x: number;
    y: number;
    modulePx: number;
    size: number;
    isDark(row: number, col: number): boolean;
  };
  texts: TextRun[];
}

export const MODULE_PX = 6;
export const QUIET_MODULES = 4;
const TITLE_SCALE = 2;
const VALUE_SCALE = 3;
const MAX_CHARS_PER_LINE = 20;
const MARGIN_PX = 16;
const LINE_GAP_PX = 6;
const SECTION_GAP_PX = 14;

export function qrContent(input: LabelInput): string {
  return input.claimUrl ?? `flotilla:claim:${input.claimCode}`;
}

function wrap(text: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += MAX_CHARS_PER_LINE) lines.push(text.slice(i, i + MAX_CHARS_PER_LINE));
  return lines.length > 0 ? lines : [''];
}

function sections(input: LabelInput): Array<[title: string, value: string]> {
  const list: Array<[string, string]> = [
    ['SERIAL', input.serial],
    ['CLAIM CODE', input.claimCode],
  ];
  if (input.deviceId !== input.serial) list.push(['DEVICE ID', input.deviceId]);
  return list;
}

export function layoutLabel(input: LabelInput): LabelLayout {
  const content = qrContent(input);
  const code = QRCode.create(content, { errorCorrectionLevel: 'M' });
  const size = code.modules.size;
  const qrPx = (size + 2 * QUIET_MODULES) * MODULE_PX;

  const texts: TextRun[] = [];
  const x = qrPx;
  let y = MARGIN_PX;
  for (const [title, value] of sections(input)) {
    texts.push({ text: title, x, y, scale: TITLE_SCALE });
    y += GLYPH_HEIGHT * TITLE_SCALE + LINE_GAP_PX;
    for (const line of wrap(value)) {
      texts.push({ text: line, x, y, scale: VALUE_SCALE });
      y += GLYPH_HEIGHT * VALUE_SCALE + LINE_GAP_PX;
    }
    y += SECTION_GAP_PX;
  }
  const textWidth = Math.max(...texts.map((t) => t.text.length * GLYPH_ADVANCE * t.scale));
  return {
    width: qrPx + textWidth + MARGIN_PX,
    height: Math.max(qrPx, y - SECTION_GAP_PX - LINE_GAP_PX + MARGIN_PX),
    qr: {
      content,
      x: QUIET_MODULES * MODULE_PX,
      y: QUIET_MODULES * MODULE_PX,
      modulePx: MODULE_PX,
      size,
      isDark: (row, col) => code.modules.get(row, col) === 1,
    },
    texts,
  };
}
