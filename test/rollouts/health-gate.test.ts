// The health-regression gate inside the orchestrator: real SQLite stores and deployment service,
// a hand-advanced clock, and a telemetry reader computed from a model of the fleet (each device
// errs at a known rate per hour, depending on whether it runs the new release). The reader stands
// in for the telemetry store here; test/e2e/health-regression.e2e.test.ts runs the real one.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type {
  DeviceRange,
  MetricSummary,
  TelemetryReader,
} from '../../src/ota/rollouts/health-observations.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { rolloutHarness, t0, type RolloutHarness } from './rollout-harness.ts';

const HOUR = 3_600_000;
const DEVICES = 60;
const files = tempDatabaseFiles('health-gate');
before(() => files.open());
after(() => files.close());

const spec = {
  release: { model: 'sensor-x', version: '2.4.1' },
  stages: [{ percent: 10 }, { percent: 50 }, { percent: 100 }],
  gates: { healthRegression: { minDevices: 3, minDeviceHours: 2, windowS: 6 * 3600 } },
};

/**
 * Telemetry as the store would summarise it: errors at `oldRate` per hour before a device's update
 * succeeded and `newRate` after, reported in 5-minute windows (so counts are whole numbers).
 */
function fleetModel(
  updatedAt: Map<string, number>,
  oldRate: number,
  newRate: number,
  reporting = () => true,
) {
  const windowMs = 5 * 60_000;
  const reader: TelemetryReader = {
    summarizeRanges(ranges: readonly DeviceRange[], metrics: readonly string[]) {
      const result = new Map<string, Map<string, MetricSummary>>();
      for (const range of ranges) {
        if (!metrics.includes('errors')) continue;
        let sum = 0;
        let coveredMs = 0;
        const from = Math.ceil(range.fromMs / windowMs) * windowMs;
        for (let start = from; start + windowMs <= range.toMs; start += windowMs) {
          const updated = updatedAt.get(range.deviceId);
          const newer = updated !== undefined && start >= updated;
          if (newer && !reporting()) continue;
          // Whole occurrences spread evenly: rate × window, accumulated.
          const rate = newer ? newRate : oldRate;
          sum += Math.floor(((start - t0) / HOUR + 1 / 12) * rate) - Math.floor(((start - t0) / HOUR) * rate);
          coveredMs += windowMs;
        }
        if (coveredMs > 0) result.set(range.deviceId, new Map([['errors', { sum, coveredMs }]]));
      }
      return Promise.resolve(result);
    },
  };
  return reader;
}

describe('the health-regression gate in the orchestrator', () => {
  let h: RolloutHarness;
  const updatedAt = new Map<string, number>();
  const seq = new Map<string, number>();

  /** A harness whose gate reads `reader`, the fleet registered, the clock 12 h after t0. */
  async function harness(reader: TelemetryReader): Promise<RolloutHarness> {
    updatedAt.clear();
    seq.clear();
    h = await rolloutHarness(files.fresh(), { telemetry: reader });
    for (let i = 0; i < DEVICES; i++) await h.register(`d${String(i).padStart(3, '0')}`);
    await h.tickAt(t0 + 12 * HOUR); // the fleet has reported for 12 h already
    return h;
  }
  afterEach(() => h.close());

  /** Every device with an active execution reports success now. */
  async function succeedAll(): Promise<void> {
    const page = await h.stores.updates.listActiveAssignments({ limit: 1000 });
    for (const { deviceId, deploymentId } of page.items) {
      const next = (seq.get(deviceId) ?? 0) + 1;
      seq.set(deviceId, next);
      await h.deployments.applyStatus(deviceId, {
        deploymentId,
        version: '2.4.1',
        state: 'success',
        seq: next,
      });
      updatedAt.set(deviceId, h.now());
    }
  }

  type Gate = { gate: string; metric?: string; status: string; detail: string; value: number | null };
  const healthGate = async (id: string): Promise<Gate | undefined> => {
    const view = await h.service.show(id);
    const current = view.stages.find((s) => s.current)!;
    return (current.gates as Gate[]).find((g) => g.gate === 'health-regression' && g.metric === 'errors');
  };

  it('lets a release that errs as often as the old one through every stage', async () => {
    await harness(fleetModel(updatedAt, 1, 1));
    const { rollout } = await h.service.create(spec, 'alice');
    for (let step = 0; step < 12; step++) {
      await h.tickAt(h.now());
      await succeedAll();
      await h.tickAt(h.now() + 4 * HOUR);
      await h.tickAt(h.now() + 21 * HOUR);
    }
    const view = await h.service.show(rollout.id);
    assert.equal(view.rollout.state.status, 'completed', JSON.stringify(view.rollout.state));
    assert.equal(h.offered().size, DEVICES);
  });

  it('pauses at the canaries when the updated devices err ten times as often', async () => {
    await harness(fleetModel(updatedAt, 0.5, 5));
    const { rollout, stageSizes } = await h.service.create(spec, 'alice');
    await h.tickAt(h.now());
    await succeedAll();
    await h.tickAt(h.now() + 1000);
    // Success and failure gates pass: the hold starts; the health gate waits for device-hours.
    let gate = await healthGate(rollout.id);
    assert.equal(gate?.status, 'pending', gate?.detail);
    await h.tickAt(h.now() + 3 * HOUR);
    const view = await h.service.show(rollout.id);
    assert.equal(view.rollout.state.status, 'paused');
    assert.equal(view.rollout.state.pauseReason?.kind, 'gate');
    assert.match(JSON.stringify(view.rollout.state.pauseReason), /health-regression/);
    gate = await healthGate(rollout.id);
    assert.equal(gate?.status, 'fail');
    assert.match(gate.detail, /updated devices vs .* old-version devices/);
    // Nobody beyond the canaries was offered anything, however long we wait.
    await h.tickAt(h.now() + 48 * HOUR);
    assert.equal(h.offered().size, stageSizes[0]);
  });

  it('waits while the updated devices send no telemetry', async () => {
    await harness(fleetModel(updatedAt, 1, 1, () => false));
    const { rollout } = await h.service.create(spec, 'alice');
    await h.tickAt(h.now());
    await succeedAll();
    await h.tickAt(h.now() + 30 * HOUR);
    await h.tickAt(h.now() + 1000);
    const view = await h.service.show(rollout.id);
    assert.equal(view.rollout.state.status, 'running');
    assert.equal(view.rollout.state.stageIndex, 0);
    const gate = await healthGate(rollout.id);
    assert.equal(gate?.status, 'pending');
    assert.match(gate.detail, /waiting for data from \d+ updated devices \(0 so far\)/);
  });
});
