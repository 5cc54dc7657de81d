/** Batches within the schema's limits and one MQTT payload. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { telemetryBatchSchema, type TelemetryWindow } from '../../src/contracts/telemetry-messages.ts';
import { MAX_PAYLOAD_BYTES } from '../../src/contracts/topics.ts';
import { packBatches } from '../../src/agent/telemetry/batch-pack.ts';
import { createWindowBook } from '../../src/agent/telemetry/window-book.ts';

const T0 = 1_764_201_600_000;

describe('batch packing', () => {
  it('splits events at the per-batch limit, events first', () => {
    const events = Array.from({ length: 250 }, (_, i) => ({
      type: 'error' as const,
      atMs: T0,
      severity: 'error' as const,
      code: `E${i}`,
    }));
    const batches = packBatches([], events);
    assert.deepEqual(
      batches.map((b) => b.events.length),
      [200, 50],
    );
  });

  it('keeps every batch within one MQTT payload', () => {
    const book = createWindowBook();
    for (let m = 0; m < 64; m++) {
      for (let w = 0; w < 40; w++) {
        book.add(
          `metric.number_${m}`,
          { kind: 'app', sampleMs: 1_000, windowMs: 60_000 },
          T0 + w * 60_000,
          m + w,
        );
      }
    }
    const windows: TelemetryWindow[] = book.closeAll(T0 + 40 * 60_000);
    assert.equal(windows.length, 40);
    const batches = packBatches(windows, []);
    assert.ok(batches.length > 1, 'too much for one payload');
    let seq = 1;
    for (const content of batches) {
      const batch = {
        seq: seq++,
        sentAtMs: T0,
        dropped: { batches: 10_000, fromSeq: 123_456_789 },
        ...content,
      };
      telemetryBatchSchema.parse(batch);
      assert.ok(Buffer.byteLength(JSON.stringify(batch)) <= MAX_PAYLOAD_BYTES);
    }
    assert.equal(
      batches.reduce((n, b) => n + b.windows.length, 0),
      40,
    );
  });

  it('splits a window of more than 64 metrics', () => {
    const book = createWindowBook();
    for (let m = 0; m < 70; m++) book.add(`m${m}`, { kind: 'app', sampleMs: 1_000, windowMs: 60_000 }, T0, m);
    const windows = book.closeEnded(T0 + 60_000);
    assert.deepEqual(
      windows.map((w) => Object.keys(w.values).length),
      [64, 6],
    );
    assert.ok(windows.every((w) => w.startMs === T0 && w.endMs === T0 + 60_000));
  });
});
