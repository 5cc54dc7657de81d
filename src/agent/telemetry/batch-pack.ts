/**
 * Packs closed windows and events into batch contents that respect the schema's limits
 * (TELEMETRY_LIMITS) and fit one MQTT payload. Events first, so an error report is never held
 * back behind a long backlog of windows. Pure.
 */
import { MAX_PAYLOAD_BYTES } from '../../contracts/topics.ts';
import {
  TELEMETRY_LIMITS,
  type TelemetryEvent,
  type TelemetryWindow,
} from '../../contracts/telemetry-messages.ts';

/** A batch before the outbox numbers it. */
export interface BatchContent {
  windows: TelemetryWindow[];
  events: TelemetryEvent[];
}

/** Room left in a payload for `seq`, `sentAtMs`, `dropped` and the JSON punctuation, in bytes. */
const ENVELOPE_BYTES = 256;

/** Bytes of JSON a batch may hold in windows and events: one MQTT payload minus the envelope. */
export const BATCH_CONTENT_BYTES = MAX_PAYLOAD_BYTES - ENVELOPE_BYTES;

export function packBatches(
  windows: readonly TelemetryWindow[],
  events: readonly TelemetryEvent[],
  maxBytes = BATCH_CONTENT_BYTES,
): BatchContent[] {
  const batches: BatchContent[] = [];
  let current: BatchContent = { windows: [], events: [] };
  let bytes = 0;
  const flush = () => {
    if (current.windows.length + current.events.length === 0) return;
    batches.push(current);
    current = { windows: [], events: [] };
    bytes = 0;
  };
  const place = <T>(item: T, list: 'windows' | 'events', limit: number) => {
    // +1 for the comma between items. Text is UTF-8 on the wire: count bytes, not characters.
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    const items = current[list] as T[];
    if (items.length >= limit || (bytes + size > maxBytes && bytes > 0)) flush();
    (current[list] as T[]).push(item);
    bytes += size;
  };
  for (const event of events) place(event, 'events', TELEMETRY_LIMITS.events);
  for (const window of windows) place(window, 'windows', TELEMETRY_LIMITS.windows);
  flush();
  return batches;
}
