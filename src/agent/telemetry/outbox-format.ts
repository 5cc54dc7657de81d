/**
 * The on-disk form of one queued batch (docs/telemetry-agent.md, "Outbox on disk"): a file
 * `batch-<seq, 16 digits>.json` of two lines, the SHA-256 (hex) of the second line's bytes, then
 * the batch as JSON. A file that does not decode (torn or corrupted) is refused here. Pure.
 */
import { createHash } from 'node:crypto';
import { telemetryBatchSchema, type TelemetryBatch } from '../../contracts/telemetry-messages.ts';

const NAME = /^batch-(\d{16})\.json$/;

export function batchFileName(seq: number): string {
  return `batch-${String(seq).padStart(16, '0')}.json`;
}

/** The seq a batch file name carries; undefined for any other name. */
export function seqOfFileName(name: string): number | undefined {
  const match = NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function encodeBatchFile(batch: TelemetryBatch): Buffer {
  const json = JSON.stringify(batch);
  const digest = createHash('sha256').update(json, 'utf8').digest('hex');
  return Buffer.from(`${digest}\n${json}\n`, 'utf8');
}

export type DecodeResult = { ok: true; batch: TelemetryBatch } | { ok: false; reason: string };

export function decodeBatchFile(bytes: Buffer, expectedSeq: number): DecodeResult {
  const text = bytes.toString('utf8');
  const newline = text.indexOf('\n');
  if (newline !== 64) return { ok: false, reason: 'no checksum line' };
  const digest = text.slice(0, 64);
  const json = text.slice(65).replace(/\n$/, '');
  if (createHash('sha256').update(json, 'utf8').digest('hex') !== digest) {
    return { ok: false, reason: 'checksum mismatch (torn or corrupted write)' };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = telemetryBatchSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: `not a batch: ${parsed.error.issues[0]?.message}` };
  if (parsed.data.seq !== expectedSeq) return { ok: false, reason: 'seq differs from the file name' };
  return { ok: true, batch: parsed.data };
}
