/**
 * The FleetMetricsStore contract on SQLite and PostgreSQL: the fleet summary over the fixed fleet of
 * test/fleet-query (counts exact), releases and error rollups written through the real stores, and
 * the device matches alert rules use.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { computeFleetSummary } from '../../src/fleet-metrics/fleet-summary.ts';
import { parseFleetQuery } from '../../src/fleet-query/index.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { createFleet, nowMs, type AddTelemetry } from '../fleet-query/fleet-fixture.ts';

export interface MetricsEnv {
  stores: Stores;
  addTelemetry: AddTelemetry;
  close(): Promise<void>;
}

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;

async function addReleases(stores: Stores): Promise<void> {
  for (const [model, version] of [
    ['tracker-2', '2.4.0'],
    ['tracker-2', '2.10.0'],
    ['tracker-2', '2.9.0'],
    ['sensor-1', '1.0.0'],
  ] as const) {
    await stores.releases.createRelease(
      {
        version,
        hardwareModel: model,
        hardwareRevisions: [],
        sha256: 'a'.repeat(64),
        size: 1,
        security: false,
        minVersion: null,
        mandatory: false,
        notes: '',
        createdBy: 'test',
      },
      nowMs - 30 * 86_400_000,
    );
  }
}

/** `errors` windows: d01 5 in 10 samples and d04 0 in 10 inside the window; d02's is too old. */
async function addErrors(stores: Stores): Promise<void> {
  const window = (startMs: number, avg: number) => ({
    kind: 'health' as const,
    metric: 'errors',
    startMs,
    endMs: startMs + 5 * minuteMs,
    min: 0,
    max: 1,
    avg,
    count: 10,
    last: 0,
  });
  await stores.telemetry.writeBatches(
    [
      ['d01', nowMs - 30 * minuteMs, 0.5],
      ['d04', nowMs - 30 * minuteMs, 0],
      ['d02', nowMs - 90 * minuteMs, 1],
    ].map(([deviceId, startMs, avg]) => ({
      deviceId: deviceId as string,
      seq: 1,
      receivedAtMs: nowMs,
      windows: [window(startMs as number, avg as number)],
      events: [],
      accepted: 1,
      rejected: 0,
    })),
  );
}

const scope = (where?: string) => ({ ...(where ? { where: parseFleetQuery(where) } : {}), nowMs });
const ids = (matches: Array<{ deviceId: string }>) => matches.map((m) => m.deviceId);

export function fleetMetricsContract(makeEnv: () => Promise<MetricsEnv>): void {
  describe('FleetMetricsStore contract', () => {
    let env: MetricsEnv;
    before(async () => {
      env = await makeEnv();
      await createFleet(env.stores.devices, env.addTelemetry);
      await addReleases(env.stores);
      await addErrors(env.stores);
    });
    after(() => env.close());

    it('summarises the whole fleet with exact counts', async () => {
      const summary = await computeFleetSummary(env.stores.fleetMetrics, scope());
      assert.deepEqual(summary.devices, { total: 8, online: 3, offline: 5, onlinePct: 37.5 });
      assert.equal(summary.firmware.versions.length, 8);
      assert.ok(summary.firmware.versions.every((v) => v.devices === 1));
      assert.ok(summary.firmware.versions.some((v) => v.version === null));
      assert.equal(summary.firmware.otherDevices, 0);
      // tracker-2's current release is 2.10.0 (semver, not text); sensor-1's is 1.0.0 (build metadata ignored)
      assert.deepEqual(
        [summary.firmware.withRelease, summary.firmware.onCurrentRelease, summary.firmware.currentPct],
        [8, 2, 25],
      );
      assert.deepEqual(
        summary.battery.filter((b) => b.devices > 0),
        [
          { bucket: '10-20', devices: 3 },
          { bucket: '50-80', devices: 1 },
          { bucket: 'unknown', devices: 4 },
        ],
      );
      assert.deepEqual(
        summary.signal.filter((b) => b.devices > 0),
        [
          { bucket: '-100..-90', devices: 1 },
          { bucket: 'ge-70', devices: 1 },
          { bucket: 'unknown', devices: 6 },
        ],
      );
      assert.deepEqual(summary.errorRate, { fromMs: nowMs - hourMs, errors: 5, samples: 20, pct: 25 });
    });

    it('summarises a scope given as a fleet query', async () => {
      const summary = await computeFleetSummary(env.stores.fleetMetrics, scope('model = "tracker-2"'));
      assert.deepEqual(summary.devices, { total: 6, online: 2, offline: 4, onlinePct: (100 * 2) / 6 });
      assert.deepEqual([summary.firmware.withRelease, summary.firmware.onCurrentRelease], [6, 1]);
      const d01 = await computeFleetSummary(env.stores.fleetMetrics, scope('id = "d01"'));
      assert.deepEqual([d01.errorRate.errors, d01.errorRate.samples, d01.errorRate.pct], [5, 10, 50]);
      const none = await computeFleetSummary(env.stores.fleetMetrics, scope('id = "nobody"'));
      assert.deepEqual(none.devices, { total: 0, online: 0, offline: 0, onlinePct: null });
      assert.equal(none.firmware.currentPct, null);
      assert.equal(none.errorRate.pct, null);
    });

    it('lists at most the requested number of firmware versions', async () => {
      assert.equal((await env.stores.fleetMetrics.firmwareVersions(scope(), 3)).length, 3);
    });

    it('matches devices for rule conditions in one query, with their values', async () => {
      const metrics = env.stores.fleetMetrics;
      const battery = await metrics.matchDevices(
        { kind: 'telemetry', metric: 'battery_pct', operator: '<', threshold: 20 },
        scope(),
      );
      assert.deepEqual(battery, [
        { deviceId: 'd01', value: 15 },
        { deviceId: 'd02', value: 10 },
        { deviceId: 'd07', value: 19.5 },
      ]);
      const scoped = await metrics.matchDevices(
        { kind: 'telemetry', metric: 'battery_pct', operator: '<', threshold: 20 },
        scope('online'),
      );
      assert.deepEqual(ids(scoped), ['d02']);
      const offline = await metrics.matchDevices(
        { kind: 'offline', operator: '>', thresholdMs: 24 * hourMs },
        scope(),
      );
      assert.deepEqual(offline, [
        { deviceId: 'd01', value: 48 * hourMs },
        { deviceId: 'd05', value: 240 * hourMs },
        { deviceId: 'd07', value: 30 * hourMs },
      ]);
      const errors = await metrics.matchDevices(
        { kind: 'error_rate', operator: '>', thresholdPct: 1, fromMs: nowMs - hourMs },
        scope(),
      );
      assert.deepEqual(errors, [{ deviceId: 'd01', value: 50 }]);
      const query = await metrics.matchDevices(
        { kind: 'query', query: parseFleetQuery('tag.ring = "beta"') },
        scope(),
      );
      assert.deepEqual(query, [
        { deviceId: 'd01', value: null },
        { deviceId: 'd04', value: null },
      ]);
    });
  });
}
