/**
 * A 5×7 bitmap font for printing labels without a font rasteriser: the classic HD44780-style
 * glyphs for A–Z, a–z, 0–9 and the punctuation in serials, claim codes and URLs. Each glyph is
 * five column bytes as hex, bit 0 the top row. `0` carries a slash so it is not read as `O`.
 */

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal distance between glyph origins, in font pixels (one pixel of spacing). */
export const GLYPH_ADVANCE = 6;

const GLYPHS: Readonly<Record<string, string>> = {
  ' ': '0000000000',
  '!': '00005f0000',
  '-': '0808080808',
  '.': '0060600000',
  '/': '2010080402',
  0: '3e5149453e',
  1: '00427f4000',
  2: '4261514946',
  3: '2141454b31',
  4: '1814127f10',
  5: '2745454539',
  6: '3c4a494930',
  7: '0171090503',
  8: '3649494936',
  9: '064949291e',
  ':': '0036360000',
  '=': '1414141414',
  '?': '0201510906',
  '@': '324979413e',
  A: '7e1111117e',
  B: '7f49494936',
  C: '3e41414122',
  D: '7f4141221c',
  E: '7f49494941',
  F: '7f09090101',
  G: '3e41415132',
  H: '7f0808087f',
  I: '00417f4100',
  J: '2040413f01',
  K: '7f08142241',
  L: '7f40404040',
  M: '7f0204027f',
  N: '7f0408107f',
  O: '3e4141413e',
  P: '7f09090906',
  Q: '3e4151215e',
  R: '7f09192946',
  S: '4649494931',
  T: '01017f0101',
  U: '3f4040403f',
  V: '1f2040201f',
  W: '7f2018207f',
  X: '6314081463',
  Y: '0304780403',
  Z: '6151494543',
  _: '4040404040',
  a: '2054545478',
  b: '7f48444438',
  c: '3844444420',
  d: '384444487f',
  e: '3854545418',
  f: '087e090102',
  g: '081454543c',
  h: '7f08040478',
  i: '00447d4000',
  j: '2040443d00',
  k: '007f102844',
  l: '00417f4000',
  m: '7c04180478',
  n: '7c08040478',
  o: '3844444438',
  p: '7c14141408',
  q: '081414187c',
  r: '7c08040408',
  s: '4854545420',
  t: '043f444020',
  u: '3c4040207c',
  v: '1c2040201c',
  w: '3c4030403c',
  x: '4428102844',
  y: '0c5050503c',
  z: '4464544c44',
};

/** Characters without a glyph are drawn as `?`. */
export function hasGlyph(char: string): boolean {
  return GLYPHS[char] !== undefined;
}

/** The glyph's pixels: `lit(x, y)` for x in [0, 5), y in [0, 7). */
export function glyphPixels(char: string): (x: number, y: number) => boolean {
  const hex = GLYPHS[char] ?? GLYPHS['?'] ?? '';
  const columns = [0, 1, 2, 3, 4].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  return (x, y) => (((columns[x] ?? 0) >> y) & 1) === 1;
}
