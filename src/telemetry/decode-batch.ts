/**
 * The first ingest stage: a decoded JSON payload becomes a valid batch, an `invalid` ack (it has
 * an integer seq, so the device can be told to drop it), or a malformed message (no seq to ack:
 * answered on the `rejected` topic, or 400 over HTTPS). Pure.
 */
import type { z } from 'zod';
import {
  telemetryBatchSchema,
  type TelemetryAck,
  type TelemetryBatch,
} from '../contracts/telemetry-messages.ts';

/** The ack schema allows at most this many rejected entries; the rest are only counted. */
export const MAX_ACK_REJECTIONS = 100;

export type DecodedBatch =
  | { kind: 'batch'; batch: TelemetryBatch }
  | { kind: 'invalid'; ack: TelemetryAck }
  | { kind: 'malformed'; message: string };

/** The batch's seq when `json` is an object with a non-negative safe-integer `seq`. */
export function seqOf(json: unknown): number | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const seq = (json as { seq?: unknown }).seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
}

function pathOf(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.') || '(batch)';
}

export function decodeBatch(json: unknown): DecodedBatch {
  const seq = seqOf(json);
  if (seq === undefined)
    return { kind: 'malformed', message: 'telemetry payload is not an object with an integer seq >= 0' };
  const parsed = telemetryBatchSchema.safeParse(json);
  if (parsed.success) return { kind: 'batch', batch: parsed.data };
  const rejected = parsed.error.issues.slice(0, MAX_ACK_REJECTIONS).map((issue) => ({
    path: pathOf(issue),
    reason: 'invalid' as const,
    message: issue.message,
  }));
  return { kind: 'invalid', ack: { seq, outcome: 'invalid', accepted: 0, rejected } };
}
