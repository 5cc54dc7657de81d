/** The ingest pipeline on a real SQLite store: dedup, partial rejection, backpressure, rollups. */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { serverConfigSchema } from '../../src/config/schema.ts';
import type { TelemetryBatchInput } from '../../src/contracts/telemetry-messages.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import type { BatchToStore, TelemetryStore } from '../../src/store/telemetry-types.ts';
import { bucketStart, DAY_MS, HOUR_MS } from '../../src/telemetry/rollups.ts';
import { createTelemetryIngest, type TelemetryIngest } from '../../src/telemetry/telemetry-ingest.ts';
import { TelemetryWriter } from '../../src/telemetry/telemetry-writer.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';

const files = tempDatabaseFiles('ingest');
before(() => files.open());
after(() => files.close());

const settings = serverConfigSchema.parse({}).telemetry;
const now = Date.UTC(2026, 5, 10, 12);
const clock = { now: () => now };
const agg = (v: number) => ({ min: v, max: v, avg: v, count: 1, last: v });

function healthWindow(startMs: number, battery: number) {
  return {
    kind: 'health' as const,
    startMs,
    endMs: startMs + 300_000,
    values: { battery_pct: agg(battery) },
  };
}

describe('telemetry ingest', () => {
  let stores: Stores;
  let writer: TelemetryWriter;
  let ingest: TelemetryIngest;

  function pipeline(
    store: Pick<TelemetryStore, 'writeBatches' | 'appMetricNames'>,
    writerOptions: Partial<typeof settings.writer> = {},
  ) {
    writer = new TelemetryWriter(
      { store, clock, timers: systemTimers, logger: createLogger('silent') },
      { ...settings.writer, flushIntervalMs: 1, ...writerOptions },
    );
    return createTelemetryIngest({ store, writer, clock, settings });
  }

  beforeEach(async () => {
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    await stores.devices.createDevice(
      { id: 'd1', serial: 'S1', hardwareModel: 'm1', firmwareVersion: '1.0' },
      now,
    );
    await stores.devices.createDevice(
      { id: 'd2', serial: 'S2', hardwareModel: 'm1', firmwareVersion: '1.1' },
      now,
    );
    ingest = pipeline(stores.telemetry);
  });
  afterEach(async () => {
    await writer.stop();
    await stores.close();
  });

  const rawCount = async (deviceId: string, metric = 'battery_pct') =>
    (
      await stores.telemetry.querySeries({
        scope: 'device',
        key: deviceId,
        metric,
        resolution: 'raw',
        fromMs: 0,
        toMs: now + DAY_MS,
        limit: 10_000,
      })
    ).length;

  it('stores a batch once and acks a re-sent one as duplicate', async () => {
    const body: TelemetryBatchInput = { seq: 5, windows: [healthWindow(now - 600_000, 50)] };
    assert.deepEqual(await ingest.ingest('d1', body), {
      kind: 'ack',
      ack: { seq: 5, outcome: 'stored', accepted: 1, rejected: [] },
    });
    assert.deepEqual(await ingest.ingest('d1', body), {
      kind: 'ack',
      ack: { seq: 5, outcome: 'duplicate', accepted: 0, rejected: [] },
    });
    // The same seq of another device is another batch.
    assert.equal((await ingest.ingest('d2', body)).kind === 'ack', true);
    assert.equal(await rawCount('d1'), 1);
    assert.equal(await rawCount('d2'), 1);
  });

  it("refuses bad records without poisoning the rest of the batch or other devices' batches", async () => {
    const [mixed, clean, invalid] = await Promise.all([
      ingest.ingest('d1', {
        seq: 1,
        windows: [
          healthWindow(now + DAY_MS, 50),
          healthWindow(now - 600_000, 250),
          healthWindow(now - 300_000, 40),
        ],
      }),
      ingest.ingest('d2', {
        seq: 1,
        windows: [healthWindow(now - 600_000, 60), healthWindow(now - 300_000, 61)],
      }),
      ingest.ingest('d2', { seq: 2, windows: [{ ...healthWindow(now, 1), endMs: now - 1 }] }),
    ]);
    assert.ok(mixed.kind === 'ack' && clean.kind === 'ack' && invalid.kind === 'ack');
    assert.equal(mixed.ack.outcome, 'stored');
    assert.equal(mixed.ack.accepted, 1);
    assert.deepEqual(
      mixed.ack.rejected.map((r) => [r.path, r.reason]),
      [
        ['windows.0', 'timestamp_future'],
        ['windows.1.values.battery_pct', 'out_of_range'],
      ],
    );
    assert.deepEqual(clean.ack, { seq: 1, outcome: 'stored', accepted: 2, rejected: [] });
    assert.equal(invalid.ack.outcome, 'invalid');
    assert.equal(await rawCount('d1'), 1);
    assert.equal(await rawCount('d2'), 2);
    const latest = await stores.telemetry.latest(['d1']);
    assert.deepEqual(
      latest.map((v) => v.value),
      [40],
    );
  });

  it('answers a payload without a seq as malformed, and an upload with one as a whole', async () => {
    assert.equal((await ingest.ingest('d1', { windows: [] })).kind, 'malformed');
    const refused = await ingest.ingestUpload('d1', [
      { seq: 1, windows: [healthWindow(now - 1e6, 5)] },
      { nope: 1 },
    ]);
    assert.deepEqual(refused, { ok: false, message: 'batches.1 is not an object with an integer seq >= 0' });
    assert.equal(await rawCount('d1'), 0, 'nothing of a refused upload is written');
    const upload = await ingest.ingestUpload('d1', [
      { seq: 2, windows: [healthWindow(now - 1e6, 5)] },
      { seq: 1, windows: [healthWindow(now - 2e6, 6)] },
      { seq: 2, windows: [healthWindow(now - 1e6, 5)] },
    ]);
    assert.ok(upload.ok);
    assert.deepEqual(
      upload.acks.map((a) => [a.seq, a.outcome]),
      [
        [2, 'stored'],
        [1, 'stored'],
        [2, 'duplicate'],
      ],
    );
  });

  it('limits distinct application metric names per device, remembered across restarts', async () => {
    const limit = settings.maxAppMetricsPerDevice;
    const names = Array.from({ length: limit - 1 }, (_, i) => `app.m${String(i).padStart(3, '0')}`);
    const window = (startMs: number, metrics: string[]) => ({
      kind: 'app' as const,
      startMs,
      endMs: startMs + 60_000,
      values: Object.fromEntries(metrics.map((m) => [m, agg(1)])),
    });
    const first = await ingest.ingest('d1', {
      seq: 1,
      windows: [window(now - 3_600_000, names.slice(0, 60)), window(now - 3_500_000, names.slice(60))],
    });
    assert.ok(first.kind === 'ack' && first.ack.rejected.length === 0);
    // A fresh pipeline (a restart) learns the device's names from the store.
    await writer.stop();
    ingest = pipeline(stores.telemetry);
    const second = await ingest.ingest('d1', {
      seq: 2,
      windows: [window(now - 60_000, ['app.m000', 'zz.one', 'zz.two'])],
    });
    assert.ok(second.kind === 'ack');
    assert.deepEqual(
      second.ack.rejected.map((r) => [r.path, r.reason]),
      [['windows.0.values.zz.two', 'too_many_metrics']],
    );
    assert.equal(second.ack.accepted, 2);
  });

  it('makes producers wait on a slow store and loses nothing', async () => {
    await writer.stop();
    // Every transaction waits a turn of the event loop; the queue holds 4 batches.
    const slow = {
      appMetricNames: (deviceIds: readonly string[]) => stores.telemetry.appMetricNames(deviceIds),
      writeBatches: async (batches: readonly BatchToStore[]) => {
        await new Promise((resolve) => setImmediate(resolve));
        return stores.telemetry.writeBatches(batches);
      },
    };
    ingest = pipeline(slow, { queueBatches: 4, maxBatchesPerWrite: 3 });
    let maxDepth = 0;
    const acks = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const done = ingest.ingest(i % 2 ? 'd1' : 'd2', {
          seq: i,
          windows: [healthWindow(now - (i + 1) * 300_000, i % 100)],
        });
        maxDepth = Math.max(maxDepth, writer.depth());
        return done;
      }),
    );
    assert.ok(maxDepth <= 4, `queue depth ${maxDepth} stayed within its bound`);
    assert.ok(acks.every((r) => r.kind === 'ack' && r.ack.outcome === 'stored'));
    assert.equal((await rawCount('d1')) + (await rawCount('d2')), 60);
  });

  it('keeps rollups equal to the aggregates of the raw windows across hours and days', async () => {
    let state = 42;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const start = bucketStart('day', now) - 2 * DAY_MS;
    for (const deviceId of ['d1', 'd2']) {
      let seq = 0;
      // 3 days of 5-minute windows, sent in batches of random size, in random order of batches.
      const windows = Array.from({ length: (2 * DAY_MS + 12 * HOUR_MS) / 300_000 }, (_, i) => {
        const [a, b, c] = [random(), random(), random()]
          .map((x) => Math.round(x * 1000) / 10)
          .sort((x, y) => x - y);
        return {
          kind: 'health' as const,
          startMs: start + i * 300_000,
          endMs: start + (i + 1) * 300_000,
          values: {
            battery_pct: { min: a!, max: c!, avg: b!, last: b!, count: 1 + Math.floor(random() * 5) },
          },
        };
      });
      const batches: TelemetryBatchInput[] = [];
      for (let i = 0; i < windows.length;) {
        const size = 1 + Math.floor(random() * 40);
        batches.push({ seq: seq++, windows: windows.slice(i, i + size) });
        i += size;
      }
      batches.sort(() => random() - 0.5);
      const acks = await Promise.all(batches.map((batch) => ingest.ingest(deviceId, batch)));
      assert.ok(
        acks.every((r) => r.kind === 'ack' && r.ack.outcome === 'stored' && r.ack.rejected.length === 0),
      );
    }
    const query = { metric: 'battery_pct', fromMs: start, toMs: now + DAY_MS, limit: 10_000 };
    for (const resolution of ['hour', 'day'] as const) {
      for (const [scope, key, devices] of [
        ['device', 'd1', ['d1']],
        ['model', 'm1', ['d1', 'd2']],
        ['firmware', '1.1', ['d2']],
      ] as const) {
        const raw = (
          await Promise.all(
            devices.map((d) =>
              stores.telemetry.querySeries({ scope: 'device', key: d, resolution: 'raw', ...query }),
            ),
          )
        ).flat();
        const expected = new Map<
          number,
          { min: number; max: number; sum: number; count: number; last: number; at: number }
        >();
        for (const w of raw) {
          const bucket = bucketStart(resolution, w.startMs);
          const e = expected.get(bucket);
          if (!e)
            expected.set(bucket, {
              min: w.min,
              max: w.max,
              sum: w.sum,
              count: w.count,
              last: w.last,
              at: w.endMs,
            });
          else {
            e.min = Math.min(e.min, w.min);
            e.max = Math.max(e.max, w.max);
            e.sum += w.sum;
            e.count += w.count;
            if (w.endMs >= e.at) [e.last, e.at] = [w.last, w.endMs];
          }
        }
        const rollups = await stores.telemetry.querySeries({ scope, key, resolution, ...query });
        assert.equal(rollups.length, expected.size, `${scope} ${resolution} buckets`);
        for (const point of rollups) {
          const e = expected.get(point.startMs);
          assert.ok(e, `bucket ${point.startMs}`);
          assert.equal(point.min, e.min);
          assert.equal(point.max, e.max);
          assert.equal(point.count, e.count);
          assert.ok(Math.abs(point.sum - e.sum) < 1e-6 * Math.max(1, e.sum), `${scope} ${resolution} sum`);
          assert.equal(point.lastAtMs, e.at);
        }
      }
    }
  });
});
