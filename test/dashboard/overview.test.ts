/** The overview's numbers against a seeded SQLite store, and the snapshot driver on fake time. */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createOverviewService, type OverviewService } from '../../src/dashboard/overview-service.ts';
import { startSnapshotDriver } from '../../src/dashboard/snapshot-driver.ts';
import { trendRange } from '../../src/dashboard/trends.ts';
import { createFleetMetricsService } from '../../src/fleet-metrics/fleet-metrics-service.ts';
import { GroupService } from '../../src/groups/group-service.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { ValidationError } from '../../src/infra/errors.ts';
import type { DashboardSnapshot } from '../../src/store/dashboard-types.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { fakeTime } from '../helpers/fake-time.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { seedRollouts, t0 } from './dashboard-fixtures.ts';

const files = tempDatabaseFiles('overview');
before(() => files.open());
after(() => files.close());

const HOUR_MS = 3_600_000;
const nowMs = t0 + 48 * HOUR_MS;

function overviewService(stores: Stores, now: () => number): OverviewService {
  const clock = { now };
  const groups = new GroupService({ groups: stores.groups, clock });
  return createOverviewService({
    fleetMetrics: createFleetMetricsService({ store: stores.fleetMetrics, groups, clock }),
    metrics: stores.fleetMetrics,
    alerts: stores.alerts,
    rollouts: stores.rollouts,
    dashboard: stores.dashboard,
    clock,
  });
}

describe('dashboard overview', () => {
  let stores: Stores;
  let service: OverviewService;
  beforeEach(async () => {
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    service = overviewService(stores, () => nowMs);
    await seedRollouts(stores);
    await stores.devices.recordConnected('d1', 'S-d1', t0);
    await stores.devices.recordConnected('d3', 'S-d3', t0);
    const raise = (rule: string, severity: 'critical' | 'warning' | 'info', id: string) =>
      stores.alerts.raise(
        { rule, severity, subject: { kind: 'device', id }, title: rule, detail: '', details: {} },
        `a-${rule}-${id}`,
        t0,
      );
    await raise('battery-low', 'critical', 'd1');
    await raise('battery-low', 'critical', 'd2');
    await raise('offline', 'warning', 'd3');
    await raise('info-rule', 'info', 'd4');
    await raise('resolved-rule', 'warning', 'd5');
    await stores.alerts.acknowledge('a-battery-low-d2', 'user:ops', t0 + 1, null);
    await stores.alerts.resolve('a-resolved-rule-d5', 'user:ops', t0 + 1, null);
  });
  afterEach(() => stores.close());

  it('answers fleet, alerts, active rollouts newest first and the last 24 h of trends', async () => {
    await stores.dashboard.insertSnapshot(snapshotAt(nowMs - 25 * HOUR_MS));
    await stores.dashboard.insertSnapshot(snapshotAt(nowMs - HOUR_MS));
    const overview = await service.overview({ where: undefined });
    assert.equal(overview.atMs, nowMs);
    assert.deepEqual(overview.fleet.devices, { total: 6, online: 2, offline: 4, onlinePct: (100 * 2) / 6 });
    assert.equal(overview.fleet.firmware.onCurrentRelease, 2);
    assert.deepEqual(overview.alerts, {
      open: 4,
      bySeverity: { critical: 2, warning: 1, info: 1 },
      acknowledged: 1,
    });
    assert.deepEqual(overview.rollouts, [
      {
        id: 'ro-2',
        model: 'sensor-x',
        version: '2.4.1',
        status: 'running',
        stageIndex: 0,
        stageCount: 2,
        // A count stage of 1 device out of 1.
        stagePercent: 100,
        devices: { 'not-started': 1 },
        pauseReason: null,
        createdAt: new Date(t0 + 10).toISOString(),
      },
      {
        id: 'ro-1',
        model: 'sensor-x',
        version: '2.4.1',
        status: 'running',
        stageIndex: 0,
        stageCount: 2,
        stagePercent: 10,
        devices: { skipped: 1, offered: 2, downloading: 1, 'not-started': 1 },
        pauseReason: null,
        createdAt: new Date(t0).toISOString(),
      },
    ]);
    assert.deepEqual(overview.trends, {
      fromMs: nowMs - 24 * HOUR_MS,
      toMs: nowMs,
      scoped: false,
      points: [
        {
          atMs: nowMs - HOUR_MS,
          total: 10,
          online: 5,
          onlinePct: 50,
          onCurrentRelease: 2,
          currentPct: 25,
          openAlerts: 3,
        },
      ],
    });
  });

  it('shows why a rollout is paused and leaves out completed and cancelled ones', async () => {
    const ro1 = await stores.rollouts.getRollout('ro-1');
    assert.ok(ro1);
    const paused = {
      ...ro1.state,
      status: 'paused' as const,
      pauseReason: {
        kind: 'operator' as const,
        actor: 'user:ops',
        message: 'paused by user:ops: check batteries',
      },
    };
    const event = {
      atMs: t0 + 20,
      kind: 'paused' as const,
      actor: 'user:ops',
      stageIndex: 0,
      message: 'paused',
      details: {},
    };
    await stores.rollouts.updateState('ro-1', 1, paused, event, t0 + 20);
    const ro2 = await stores.rollouts.getRollout('ro-2');
    assert.ok(ro2);
    const cancelled = { ...ro2.state, status: 'cancelled' as const };
    await stores.rollouts.updateState(
      'ro-2',
      1,
      cancelled,
      { ...event, kind: 'cancelled' as const },
      t0 + 21,
    );
    const { rollouts } = await service.overview({ where: undefined });
    assert.deepEqual(
      rollouts.map((r) => [r.id, r.status, r.pauseReason]),
      [['ro-1', 'paused', 'paused by user:ops: check batteries']],
    );
  });

  it('gives a scoped caller its scope’s fleet numbers and no whole-fleet trends', async () => {
    await stores.dashboard.insertSnapshot(snapshotAt(nowMs - HOUR_MS));
    const overview = await service.overview({ where: '(online)' });
    assert.equal(overview.fleet.devices.total, 2);
    assert.equal(overview.fleet.devices.online, 2);
    assert.deepEqual(overview.trends, {
      fromMs: nowMs - 24 * HOUR_MS,
      toMs: nowMs,
      scoped: true,
      points: [],
    });
    await assert.rejects(service.overview({ where: 'model =' }), ValidationError);
  });

  it('takes whole-fleet snapshots', async () => {
    assert.deepEqual(await service.snapshot(), {
      atMs: nowMs,
      total: 6,
      online: 2,
      withRelease: 6,
      onCurrentRelease: 2,
      openAlerts: 4,
    });
  });
});

describe('trend ranges', () => {
  it('defaults to the last 24 h before `to` or now, and refuses from after to', () => {
    assert.deepEqual(trendRange({}, nowMs), { fromMs: nowMs - 24 * HOUR_MS, toMs: nowMs });
    assert.deepEqual(trendRange({ to: new Date(t0).toISOString() }, nowMs), {
      fromMs: t0 - 24 * HOUR_MS,
      toMs: t0,
    });
    assert.deepEqual(trendRange({ from: new Date(t0).toISOString() }, nowMs), { fromMs: t0, toMs: nowMs });
    assert.throws(
      () => trendRange({ from: new Date(nowMs).toISOString(), to: new Date(t0).toISOString() }, nowMs),
      ValidationError,
    );
  });
});

function snapshotAt(atMs: number): DashboardSnapshot {
  return { atMs, total: 10, online: 5, withRelease: 8, onCurrentRelease: 2, openAlerts: 3 };
}

describe('snapshot driver', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('takes a snapshot at start and every interval, and deletes those past retention', async () => {
    const time = fakeTime(t0);
    const inserted: number[] = [];
    const deletedBefore: number[] = [];
    const driver = startSnapshotDriver(
      {
        overview: { snapshot: () => Promise.resolve(snapshotAt(time.clock.now())) },
        store: {
          insertSnapshot: (s) => {
            inserted.push(s.atMs);
            return Promise.resolve();
          },
          deleteSnapshotsBefore: (ms) => {
            deletedBefore.push(ms);
            return Promise.resolve(0);
          },
        },
        clock: time.clock,
        timers: time.timers,
        logger: createLogger('silent'),
      },
      { intervalMs: 60_000, retentionMs: 30 * 24 * HOUR_MS },
    );
    await settle();
    assert.deepEqual(inserted, [t0]);
    time.advance(59_999);
    await settle();
    assert.deepEqual(inserted, [t0]);
    time.advance(1);
    await settle();
    time.advance(60_000);
    await settle();
    assert.deepEqual(inserted, [t0, t0 + 60_000, t0 + 120_000]);
    assert.deepEqual(
      deletedBefore,
      inserted.map((at) => at - 30 * 24 * HOUR_MS),
    );
    await driver.stop();
    time.advance(600_000);
    await settle();
    assert.equal(inserted.length, 3);
  });

  it('keeps going after a failed snapshot and skips a tick while one is still running', async () => {
    const time = fakeTime(t0);
    let calls = 0;
    let release: (() => void) | undefined;
    const driver = startSnapshotDriver(
      {
        overview: {
          snapshot: () => {
            calls += 1;
            if (calls === 1) return Promise.reject(new Error('database down'));
            return new Promise<DashboardSnapshot>((resolve) => {
              release = () => resolve(snapshotAt(time.clock.now()));
            });
          },
        },
        store: { insertSnapshot: () => Promise.resolve(), deleteSnapshotsBefore: () => Promise.resolve(0) },
        clock: time.clock,
        timers: time.timers,
        logger: createLogger('silent'),
      },
      { intervalMs: 1000, retentionMs: HOUR_MS },
    );
    await settle();
    time.advance(1000);
    await settle();
    assert.equal(calls, 2);
    time.advance(1000);
    await settle();
    assert.equal(calls, 2, 'the running step is not overlapped');
    release?.();
    await driver.stop();
  });
});
