// The evaluator and its driver over real SQLite stores and the real alert service, on fake time:
// raising after persistence or confirmation, clearing, and picking up open alerts after a restart.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createAlertService, type AlertService } from '../../src/alerts/alert-service.ts';
import { anomalyConfigSchema, type AnomalyConfig } from '../../src/anomaly/anomaly-config.ts';
import { startAnomalyDriver } from '../../src/anomaly/anomaly-driver.ts';
import { createAnomalyEvaluator } from '../../src/anomaly/anomaly-evaluator.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import type { WindowRow } from '../../src/store/telemetry-types.ts';
import { fakeTime } from '../helpers/fake-time.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';

const files = tempDatabaseFiles('anomaly-evaluator');
const logger = createLogger('silent');
const t0 = Date.UTC(2025, 0, 1);
const S = 1000;

before(() => files.open());
after(() => files.close());

function configWith(overrides: Record<string, unknown>): AnomalyConfig {
  return anomalyConfigSchema.parse({
    peerOutliers: { enabled: false },
    offlineClusters: { enabled: false },
    errorRate: { enabled: false },
    ...overrides,
  });
}

describe('anomaly evaluator', () => {
  let stores: Stores;
  let alerts: AlertService;
  let now = t0;
  let seq = 0;
  const detected: string[] = [];

  beforeEach(async () => {
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    alerts = createAlertService({
      store: stores.alerts,
      audit: stores.provisioning,
      clock: { now: () => now },
      logger,
    });
    detected.length = 0;
  });
  afterEach(() => stores.close());

  const evaluator = (config: AnomalyConfig) =>
    createAnomalyEvaluator(
      { store: stores.anomaly, alerts, logger, onDetected: (k) => detected.push(k) },
      config,
      t0,
    );

  async function open(rule: string) {
    return (await alerts.list({ state: 'unresolved', rule }, { limit: 100 })).items
      .map((a) => a.subject.id)
      .sort();
  }

  async function fleet(regions: Record<string, number>): Promise<string[]> {
    const ids: string[] = [];
    for (const [region, n] of Object.entries(regions))
      for (let i = 0; i < n; i += 1) {
        const id = `${region}-${i}`;
        await stores.devices.createDevice(
          { id, serial: `S-${id}`, hardwareModel: 'm1', firmwareVersion: '1.0', region },
          t0,
        );
        await stores.devices.recordConnected(id, `S-${id}`, t0 + S);
        ids.push(id);
      }
    return ids;
  }

  it('offline cluster: confirmed on the second evaluation, kept across a restart, cleared when most are back', async () => {
    const config = configWith({ offlineClusters: { windowS: 60 } });
    await fleet({ north: 12, south: 20, east: 20, west: 20 });
    for (let i = 0; i < 12; i += 1) await stores.devices.recordDisconnected(`north-${i}`, t0 + 10 * S);
    // One random device elsewhere drops too: not part of any cluster.
    await stores.devices.recordDisconnected('east-3', t0 + 11 * S);
    const first = evaluator(config);
    now = t0 + 12 * S;
    assert.equal((await first.evaluate(now)).offlineClusters, 1);
    assert.deepEqual(await open('anomaly.offline-cluster'), [], 'waits one evaluation');
    now = t0 + 13 * S;
    await first.evaluate(now);
    assert.deepEqual(await open('anomaly.offline-cluster'), ['region=north']);
    assert.deepEqual(detected, ['offline-cluster']);
    const [alert] = (await alerts.list({ rule: 'anomaly.offline-cluster' }, { limit: 10 })).items;
    assert.equal(alert?.details['count'], 12);
    assert.equal((alert?.details['deviceIds'] as string[]).length, 12);

    // A restarted server: a new evaluator finds the open alert and clears it when the region is back.
    const second = evaluator(config);
    for (let i = 0; i < 6; i += 1)
      await stores.devices.recordConnected(`north-${i}`, `S-north-${i}`, t0 + 100 * S);
    now = t0 + 200 * S;
    await second.evaluate(now);
    assert.deepEqual(await open('anomaly.offline-cluster'), ['region=north'], '6 of 12 still offline');
    await stores.devices.recordConnected('north-6', 'S-north-6', t0 + 201 * S);
    now = t0 + 202 * S;
    await second.evaluate(now);
    assert.deepEqual(await open('anomaly.offline-cluster'), []);
  });

  it('ignores devices marked offline when the server started', async () => {
    await fleet({ north: 12, south: 20 });
    await stores.devices.markAllOffline(t0);
    const e = evaluator(configWith({ offlineClusters: { windowS: 60 } }));
    now = t0 + 5 * S;
    assert.equal((await e.evaluate(now)).droppedDevices, 0);
  });

  const window = (metric: string, startMs: number, avg: number): WindowRow => ({
    kind: 'health',
    metric,
    startMs,
    endMs: startMs + 10 * S,
    min: avg,
    max: avg,
    avg,
    count: 10,
    last: avg,
  });
  const write = (deviceId: string, windows: WindowRow[]) =>
    stores.telemetry.writeBatches([
      { deviceId, seq: ++seq, receivedAtMs: now, windows, events: [], accepted: 1, rejected: 0 },
    ]);

  it('peer outlier: raised after `persistence` evaluations, cleared after as many calm ones', async () => {
    const ids = await fleet({ north: 24 });
    const config = configWith({ peerOutliers: { windowS: 60, persistence: 2, metrics: ['temperature_c'] } });
    const e = evaluator(config);
    const tick = async (hot: boolean) => {
      now += 10 * S;
      for (const [i, id] of ids.entries())
        await write(id, [window('temperature_c', now - 10 * S, id === 'north-7' && hot ? 70 : 20 + (i % 4))]);
      await e.evaluate(now);
      return open('anomaly.peer-outlier');
    };
    now = t0 + 60 * S;
    assert.deepEqual(await tick(true), []);
    assert.deepEqual(await tick(true), ['north-7']);
    // Still hot in part of the 60 s window for a while; then calm for two evaluations.
    for (let i = 0; i < 9; i += 1) await tick(false);
    assert.deepEqual(await open('anomaly.peer-outlier'), []);
    assert.deepEqual(detected, ['peer-outlier']);
  });

  it('error rate: raised for the firmware when its window rate jumps, cleared when it is back', async () => {
    const ids = await fleet({ north: 10 });
    const e = evaluator(configWith({ errorRate: { windowS: 60, baselineS: 600, minBaselineSamples: 100 } }));
    // Ten minutes of baseline: 0.1 errors per sample.
    for (let m = 0; m < 60; m += 1)
      for (const id of ids) await write(id, [window('errors', t0 + m * 10 * S, 0.1)]);
    now = t0 + 600 * S;
    await e.evaluate(now);
    assert.deepEqual(await open('anomaly.error-rate'), []);
    for (let m = 0; m < 6; m += 1)
      for (const id of ids) await write(id, [window('errors', now + m * 10 * S, 0.5)]);
    now += 60 * S;
    await e.evaluate(now);
    assert.deepEqual(await open('anomaly.error-rate'), ['firmware=1.0'], 'the firmware, not also its model');
    for (let m = 0; m < 6; m += 1)
      for (const id of ids) await write(id, [window('errors', now + m * 10 * S, 0.1)]);
    now += 60 * S;
    await e.evaluate(now);
    assert.deepEqual(await open('anomaly.error-rate'), []);
  });
});

describe('anomaly driver', () => {
  it('evaluates every interval on the injected timers, never two at once, and stops', async () => {
    const time = fakeTime(t0);
    let running = 0;
    let calls = 0;
    let release: () => void = () => undefined;
    const durations: number[] = [];
    const driver = startAnomalyDriver(
      {
        evaluator: {
          async evaluate() {
            calls += 1;
            running += 1;
            assert.equal(running, 1);
            await new Promise<void>((resolve) => (release = resolve));
            running -= 1;
            return {
              peerGroupsJudged: 0,
              peerOutliers: 0,
              droppedDevices: 0,
              offlineClusters: 0,
              errorRateChanges: 0,
            };
          },
        },
        clock: time.clock,
        timers: time.timers,
        logger,
        onEvaluated: (s) => durations.push(s),
      },
      { intervalMs: 1000 },
    );
    time.advance(1000);
    time.advance(1000); // still running: skipped
    assert.equal(calls, 1);
    time.advance(500);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(durations, [1.5]);
    time.advance(500);
    assert.equal(calls, 2);
    const stopped = driver.stop();
    release();
    await stopped;
    time.advance(5000);
    assert.equal(calls, 2);
  });
});
