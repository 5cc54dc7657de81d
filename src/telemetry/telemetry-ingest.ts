/**
 * The ingest pipeline, shared by MQTT and HTTPS: validate (decode-batch.ts) → record rules
 * (record-rules.ts) → batched, deduplicated write with rollups and latest values (the writer and
 * the store) → the ack. The ack is returned only once the batch is durably stored; a failed write
 * rejects, and the transport then withholds the acknowledgement so the device sends it again.
 */
import type { TelemetryAck } from '../contracts/telemetry-messages.ts';
import type { Clock } from '../infra/clock.ts';
import type { TelemetryStore } from '../store/telemetry-types.ts';
import { decodeBatch, MAX_ACK_REJECTIONS, seqOf } from './decode-batch.ts';
import { AppMetricNames } from './metric-names.ts';
import { applyRecordRules, type RecordRuleSettings } from './record-rules.ts';
import { countRecords, type TelemetryMetrics } from './telemetry-metrics.ts';
import type { TelemetryWriter } from './telemetry-writer.ts';

/** `malformed`: no seq to acknowledge (not an object, or no integer seq). */
export type IngestResult = { kind: 'ack'; ack: TelemetryAck } | { kind: 'malformed'; message: string };

/** A whole HTTPS upload: one ack per batch in order, or why nothing was ingested. */
export type UploadResult = { ok: true; acks: TelemetryAck[] } | { ok: false; message: string };

export interface TelemetryIngestDeps {
  store: Pick<TelemetryStore, 'appMetricNames'>;
  writer: Pick<TelemetryWriter, 'write'>;
  clock: Clock;
  settings: RecordRuleSettings;
  metrics?: TelemetryMetrics;
}

export interface TelemetryIngest {
  /** One decoded JSON payload of device `deviceId` (its identity comes from the transport). */
  ingest(deviceId: string, json: unknown): Promise<IngestResult>;
  /** Several batches at once (HTTPS upload): refused whole if any has no seq, else written together. */
  ingestUpload(deviceId: string, batches: readonly unknown[]): Promise<UploadResult>;
}

export function createTelemetryIngest(deps: TelemetryIngestDeps): TelemetryIngest {
  const { store, writer, clock, settings, metrics } = deps;
  const appNames = new AppMetricNames(store);

  async function ingest(deviceId: string, json: unknown): Promise<IngestResult> {
    const decoded = decodeBatch(json);
    if (decoded.kind === 'malformed') {
      metrics?.batches.inc({ outcome: 'malformed' });
      return decoded;
    }
    if (decoded.kind === 'invalid') {
      metrics?.batches.inc({ outcome: 'invalid' });
      return { kind: 'ack', ack: decoded.ack };
    }
    const { batch } = decoded;
    const names = await appNames.of(deviceId);
    const receivedAtMs = clock.now();
    const checked = applyRecordRules(batch, { nowMs: receivedAtMs, settings, knownAppMetricNames: names });
    for (const name of checked.newAppMetricNames) names.add(name);
    const outcome = await writer.write({
      deviceId,
      seq: batch.seq,
      receivedAtMs,
      windows: checked.windows,
      events: checked.events,
      ...(batch.dropped && { dropped: batch.dropped }),
      accepted: checked.accepted,
      rejected: checked.rejectedRecords,
    });
    metrics?.batches.inc({ outcome });
    if (outcome === 'duplicate')
      return { kind: 'ack', ack: { seq: batch.seq, outcome, accepted: 0, rejected: [] } };
    countRecords(metrics, checked.accepted, checked.rejected);
    const rejected = checked.rejected
      .slice(0, MAX_ACK_REJECTIONS)
      .map(({ path, reason, message }) => ({ path, reason, message }));
    return { kind: 'ack', ack: { seq: batch.seq, outcome, accepted: checked.accepted, rejected } };
  }

  return {
    ingest,
    async ingestUpload(deviceId, batches) {
      const missing = batches.findIndex((batch) => seqOf(batch) === undefined);
      if (missing >= 0) {
        metrics?.batches.inc({ outcome: 'malformed' });
        return { ok: false, message: `batches.${missing} is not an object with an integer seq >= 0` };
      }
      // Started together, so the writer puts them in one transaction; acks keep the input order.
      const results = await Promise.all(batches.map((batch) => ingest(deviceId, batch)));
      return { ok: true, acks: results.flatMap((result) => (result.kind === 'ack' ? [result.ack] : [])) };
    },
  };
}
