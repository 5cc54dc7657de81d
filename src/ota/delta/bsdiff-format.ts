/**
 * The BSDIFF40 patch format of bsdiff/bspatch 4.3 (Colin Percival), parsed without I/O so a
 * malformed or foreign patch is refused with a reason before any byte of it is applied.
 *
 * Layout (bsdiff.c, "File format"): 0 "BSDIFF40" ‖ 8 len(bzip2 ctrl block) ‖ 16 len(bzip2 diff
 * block) ‖ 24 newsize ‖ 32 ctrl block ‖ diff block ‖ extra block (to the end of the file).
 * Integers are "offtin": 64-bit little-endian sign-magnitude (the top bit of byte 7 is the sign).
 */

export const BSDIFF_MAGIC = 'BSDIFF40';
export const BSDIFF_HEADER_BYTES = 32;
/** Smallest bzip2 stream: "BZh" + level + end-of-stream marker and CRC (an empty stream). */
const MIN_BZIP2_BYTES = 14;

/** A parsed, validated BSDIFF40 header with the byte ranges of its three bzip2 blocks. */
export interface BsdiffHeader {
  ctrlBytes: number;
  diffBytes: number;
  extraBytes: number;
  /** Size of the file the patch produces, in bytes. */
  newBytes: number;
}

export interface HeaderLimits {
  /** Size of the whole patch file, in bytes. */
  patchBytes: number;
  /** Largest output the caller accepts, in bytes (a cap on what a patch may make us allocate). */
  maxNewBytes: number;
}

export type HeaderResult = { ok: true; header: BsdiffHeader } | { ok: false; reason: string };

/** Decodes an offtin integer at `offset`; undefined if it does not fit a safe JS integer. */
export function offtin(bytes: Uint8Array, offset: number): number | undefined {
  let magnitude = 0n;
  for (let i = 7; i >= 0; i--) {
    const byte = bytes[offset + i] ?? 0;
    magnitude = (magnitude << 8n) | BigInt(i === 7 ? byte & 0x7f : byte);
  }
  if (magnitude > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const negative = ((bytes[offset + 7] ?? 0) & 0x80) !== 0;
  return negative ? -Number(magnitude) : Number(magnitude);
}

/** Encodes `value` (a safe integer) as an 8-byte offtin integer. */
export function offtout(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
  const out = new Uint8Array(8);
  let magnitude = BigInt(Math.abs(value));
  for (let i = 0; i < 8; i++) {
    out[i] = Number(magnitude & 0xffn);
    magnitude >>= 8n;
  }
  if (value < 0) out[7] = (out[7] ?? 0) | 0x80;
  return out;
}

function isBzip2At(bytes: Uint8Array, offset: number): boolean {
  const level = bytes[offset + 3] ?? 0;
  return (
    bytes[offset] === 0x42 &&
    bytes[offset + 1] === 0x5a &&
    bytes[offset + 2] === 0x68 &&
    level >= 0x31 &&
    level <= 0x39
  );
}

/**
 * Parses the header of a BSDIFF40 patch. `head` holds at least the first 32 bytes plus, to
 * check the three blocks' bzip2 signatures, the bytes up to the extra block's first four.
 */
export function parseBsdiffHeader(head: Uint8Array, limits: HeaderLimits): HeaderResult {
  if (head.length < BSDIFF_HEADER_BYTES || limits.patchBytes < BSDIFF_HEADER_BYTES)
    return { ok: false, reason: `shorter than the ${BSDIFF_HEADER_BYTES}-byte BSDIFF40 header` };
  const magic = new TextDecoder('latin1').decode(head.subarray(0, 8));
  if (magic !== BSDIFF_MAGIC)
    return { ok: false, reason: `not a BSDIFF40 patch (magic ${JSON.stringify(magic)})` };
  const ctrlBytes = offtin(head, 8);
  const diffBytes = offtin(head, 16);
  const newBytes = offtin(head, 24);
  if (ctrlBytes === undefined || diffBytes === undefined || newBytes === undefined)
    return { ok: false, reason: 'header length out of range' };
  if (ctrlBytes < 0 || diffBytes < 0 || newBytes < 0)
    return { ok: false, reason: 'negative length in header' };
  if (newBytes > limits.maxNewBytes)
    return { ok: false, reason: `output of ${newBytes} bytes exceeds the limit of ${limits.maxNewBytes}` };
  const extraBytes = limits.patchBytes - BSDIFF_HEADER_BYTES - ctrlBytes - diffBytes;
  if (extraBytes < 0)
    return { ok: false, reason: 'block lengths run past the end of the patch (truncated?)' };
  const blocks = [
    ['control', BSDIFF_HEADER_BYTES, ctrlBytes],
    ['diff', BSDIFF_HEADER_BYTES + ctrlBytes, diffBytes],
    ['extra', BSDIFF_HEADER_BYTES + ctrlBytes + diffBytes, extraBytes],
  ] as const;
  for (const [name, offset, length] of blocks) {
    if (length < MIN_BZIP2_BYTES) return { ok: false, reason: `${name} block too short (${length} bytes)` };
    if (offset + 4 <= head.length && !isBzip2At(head, offset))
      return { ok: false, reason: `${name} block is not a bzip2 stream` };
  }
  return { ok: true, header: { ctrlBytes, diffBytes, extraBytes, newBytes } };
}
