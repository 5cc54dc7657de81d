/** Prometheus metrics of telemetry ingest. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface TelemetryMetrics {
  /** Batches by ack outcome (stored, duplicate, invalid) or `malformed` (no seq to ack). */
  batches: Counter<'outcome'>;
  /** Records accepted (reason "") and rejected by reason. */
  records: Counter<'result' | 'reason'>;
  queueDepth: Gauge;
  observeWrite(batches: number, seconds: number): void;
}

export function createTelemetryMetrics(registry: Registry): TelemetryMetrics {
  const writeBatches = new Histogram({
    name: 'flotilla_telemetry_write_batches',
    help: 'Telemetry batches written per store transaction',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [registry],
  });
  const writeSeconds = new Histogram({
    name: 'flotilla_telemetry_write_duration_seconds',
    help: 'Duration of one telemetry store transaction',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    batches: new Counter({
      name: 'flotilla_telemetry_batches_total',
      help: 'Telemetry batches handled, by outcome: stored, duplicate, invalid, malformed',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    records: new Counter({
      name: 'flotilla_telemetry_records_total',
      help: 'Telemetry records (window metrics and events) accepted or rejected, by rejection reason',
      labelNames: ['result', 'reason'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'flotilla_telemetry_queue_depth',
      help: 'Telemetry batches waiting for or in a store transaction',
      registers: [registry],
    }),
    observeWrite(batches, seconds) {
      writeBatches.observe(batches);
      writeSeconds.observe(seconds);
    },
  };
}

/** Counts the records of one stored batch: accepted, and rejected by reason. */
export function countRecords(
  metrics: TelemetryMetrics | undefined,
  accepted: number,
  rejected: ReadonlyArray<{ reason: string; records: number }>,
): void {
  if (!metrics) return;
  if (accepted > 0) metrics.records.inc({ result: 'accepted', reason: '' }, accepted);
  for (const { reason, records } of rejected) metrics.records.inc({ result: 'rejected', reason }, records);
}
