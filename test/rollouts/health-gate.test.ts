// The health-regression gate inside the orchestrator: real SQLite stores and deployment service,
// a hand-advanced clock, and a telemetry reader computed from a model of the fleet (each device
// errs at a known rate per hour, depending on whether it runs the new release).
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import {
  createDeploymentService,
  type DeploymentService,
} from '../../src/ota/deployments/deployment-service.ts';
import type {
  DeviceRange,
  MetricSummary,
  TelemetryReader,
} from '../../src/ota/rollouts/health-observations.ts';
import { createRolloutService, type RolloutService } from '../../src/ota/rollouts/rollout-service.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { newRelease } from '../store/release-store.contract.ts';

const t0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const DEVICES = 60;
const logger = pino({ level: 'silent' });
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
  let stores: Stores;
  let now: number;
  let deployments: DeploymentService;
  const offered = new Set<string>();
  const updatedAt = new Map<string, number>();
  const seq = new Map<string, number>();

  function service(reader: TelemetryReader): RolloutService {
    const clock = { now: () => now };
    deployments = createDeploymentService({
      store: stores.updates,
      devices: stores.devices,
      releases: stores.releases,
      audit: stores.provisioning,
      clock,
      logger,
      notify: (deviceId, notify) => {
        if (notify.offer !== null) offered.add(deviceId);
        return Promise.resolve();
      },
    });
    return createRolloutService({
      store: stores.rollouts,
      devices: stores.devices,
      releases: stores.releases,
      updates: stores.updates,
      deployments,
      audit: stores.provisioning,
      clock,
      logger,
      telemetry: reader,
    });
  }

  beforeEach(async () => {
    now = t0 + 12 * HOUR; // the fleet has reported for 12 h already
    offered.clear();
    updatedAt.clear();
    seq.clear();
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    for (let i = 0; i < DEVICES; i++) {
      const id = `d${String(i).padStart(3, '0')}`;
      await stores.devices.createDevice(
        {
          id,
          serial: `S-${id}`,
          hardwareModel: 'sensor-x',
          hardwareRevision: 'rev-a',
          firmwareVersion: '2.4.0',
        },
        t0,
      );
    }
    await stores.releases.createRelease(newRelease(), t0);
  });
  afterEach(() => stores.close());

  /** Every device with an active execution reports success now. */
  async function succeedAll(): Promise<void> {
    const page = await stores.updates.listActiveAssignments({ limit: 1000 });
    for (const { deviceId, deploymentId } of page.items) {
      const next = (seq.get(deviceId) ?? 0) + 1;
      seq.set(deviceId, next);
      await deployments.applyStatus(deviceId, {
        deploymentId,
        version: '2.4.1',
        state: 'success',
        seq: next,
      });
      updatedAt.set(deviceId, now);
    }
  }

  type Gate = { gate: string; metric?: string; status: string; detail: string; value: number | null };
  const healthGate = async (rollouts: RolloutService, id: string): Promise<Gate | undefined> => {
    const view = await rollouts.show(id);
    const current = view.stages.find((s) => s.current)!;
    return (current.gates as Gate[]).find((g) => g.gate === 'health-regression' && g.metric === 'errors');
  };

  it('lets a release that errs as often as the old one through every stage', async () => {
    const rollouts = service(fleetModel(updatedAt, 1, 1));
    const { rollout } = await rollouts.create(spec, 'alice');
    for (let step = 0; step < 12; step++) {
      await rollouts.tick(now);
      await succeedAll();
      now += 4 * HOUR;
      await rollouts.tick(now);
      now += 21 * HOUR;
    }
    const view = await rollouts.show(rollout.id);
    assert.equal(view.rollout.state.status, 'completed', JSON.stringify(view.rollout.state));
    assert.equal(offered.size, DEVICES);
  });

  it('pauses at the canaries when the updated devices err ten times as often', async () => {
    const rollouts = service(fleetModel(updatedAt, 0.5, 5));
    const { rollout, stageSizes } = await rollouts.create(spec, 'alice');
    await rollouts.tick(now);
    await succeedAll();
    await rollouts.tick(now + 1000);
    // Success and failure gates pass: the hold starts; the health gate waits for device-hours.
    let gate = await healthGate(rollouts, rollout.id);
    assert.equal(gate?.status, 'pending', gate?.detail);
    now += 3 * HOUR;
    await rollouts.tick(now);
    const view = await rollouts.show(rollout.id);
    assert.equal(view.rollout.state.status, 'paused');
    assert.equal(view.rollout.state.pauseReason?.kind, 'gate');
    assert.match(JSON.stringify(view.rollout.state.pauseReason), /health-regression/);
    gate = await healthGate(rollouts, rollout.id);
    assert.equal(gate?.status, 'fail');
    assert.match(gate.detail, /updated devices vs .* old-version devices/);
    // Nobody beyond the canaries was offered anything, however long we wait.
    now += 48 * HOUR;
    await rollouts.tick(now);
    assert.equal(offered.size, stageSizes[0]);
  });

  it('waits while the updated devices send no telemetry', async () => {
    const rollouts = service(fleetModel(updatedAt, 1, 1, () => false));
    const { rollout } = await rollouts.create(spec, 'alice');
    await rollouts.tick(now);
    await succeedAll();
    now += 30 * HOUR;
    await rollouts.tick(now);
    await rollouts.tick(now + 1000);
    const view = await rollouts.show(rollout.id);
    assert.equal(view.rollout.state.status, 'running');
    assert.equal(view.rollout.state.stageIndex, 0);
    const gate = await healthGate(rollouts, rollout.id);
    assert.equal(gate?.status, 'pending');
    assert.match(gate.detail, /waiting for data from \d+ updated devices \(0 so far\)/);
  });
});
