// The orchestrator with the real SQLite stores and the real deployment service (notify recorded),
// on a clock the test advances by hand: a 24 h hold passes in milliseconds.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import type { UpdateNotify } from '../../src/contracts/update-messages.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/infra/errors.ts';
import {
  createDeploymentService,
  type DeploymentService,
} from '../../src/ota/deployments/deployment-service.ts';
import { startRolloutDriver } from '../../src/ota/rollouts/rollout-driver.ts';
import { createRolloutService, type RolloutService } from '../../src/ota/rollouts/rollout-service.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { fakeTime } from '../helpers/fake-time.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { newRelease } from '../store/release-store.contract.ts';

const t0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const DEVICES = 40;
const logger = pino({ level: 'silent' });
const files = tempDatabaseFiles('rollout-service');
before(() => files.open());
after(() => files.close());

const spec = {
  release: { model: 'sensor-x', version: '2.4.1' },
  stages: [{ percent: 5 }, { percent: 50 }, { percent: 100 }],
  gates: { minReported: 1, minSuccessRate: 0.9, maxFailureRate: 0.1 },
};

describe('rollout service', () => {
  let file: string;
  let stores: Stores;
  let now: number;
  let deployments: DeploymentService;
  let service: RolloutService;
  const notified: Array<[string, UpdateNotify]> = [];
  const seq = new Map<string, number>();

  function build(): void {
    const clock = { now: () => now };
    deployments = createDeploymentService({
      store: stores.updates,
      devices: stores.devices,
      releases: stores.releases,
      audit: stores.provisioning,
      clock,
      logger,
      notify: (deviceId, notify) => {
        notified.push([deviceId, notify]);
        return Promise.resolve();
      },
    });
    service = createRolloutService({
      store: stores.rollouts,
      devices: stores.devices,
      releases: stores.releases,
      updates: stores.updates,
      deployments,
      audit: stores.provisioning,
      clock,
      logger,
    });
  }

  beforeEach(async () => {
    now = t0;
    notified.length = 0;
    seq.clear();
    file = files.fresh();
    stores = await openStores({ kind: 'sqlite', file });
    for (let i = 0; i < DEVICES; i++) {
      const id = `d${String(i).padStart(3, '0')}`;
      await stores.devices.createDevice(
        {
          id,
          serial: `S-${id}`,
          hardwareModel: 'sensor-x',
          hardwareRevision: 'rev-a',
          firmwareVersion: '2.4.0',
          region: 'eu',
          tags: { site: ['north', 'south', 'lab'][i % 3] ?? 'lab' },
        },
        t0,
      );
    }
    await stores.devices.createDevice({ id: 'other', serial: 'S-other', hardwareModel: 'gateway-1' }, t0);
    await stores.releases.createRelease(newRelease(), t0);
    build();
  });
  afterEach(() => stores.close());

  /** Devices offered something by the rollout so far. */
  const offered = () => new Set(notified.filter(([, n]) => n.offer !== null).map(([id]) => id));

  /** Every device with an active execution reports `state`. */
  async function report(
    state: 'success' | 'failed' | 'downloaded',
    filter: (id: string) => boolean = () => true,
  ): Promise<void> {
    const page = await stores.updates.listActiveAssignments({ limit: 1000 });
    for (const { deviceId, deploymentId } of page.items) {
      if (!filter(deviceId)) continue;
      const next = (seq.get(deviceId) ?? 0) + 1;
      seq.set(deviceId, next);
      const response = await deployments.applyStatus(deviceId, {
        deploymentId,
        version: '2.4.1',
        state,
        seq: next,
      });
      assert.equal(response.outcome, 'applied');
    }
  }

  async function tickAt(ms: number): Promise<void> {
    now = ms;
    await service.tick(now);
  }

  it('completes a good release through every stage, holding 24 h after each', async () => {
    const { rollout, stageSizes } = await service.create(spec, 'alice');
    assert.deepEqual(
      stageSizes.reduce((a, b) => a + b),
      DEVICES,
    );
    const id = rollout.id;
    for (let stage = 0; stage < 3; stage++) {
      await tickAt(now + 1000); // starts the stage's devices
      await report('success');
      await tickAt(now + 1000); // every gate passes: the hold starts
      let view = await service.show(id);
      assert.equal(view.rollout.state.stageIndex, stage);
      assert.notEqual(view.rollout.state.holdStartedAtMs, null);
      await tickAt(now + 23 * HOUR); // still holding
      view = await service.show(id);
      assert.equal(view.rollout.state.stageIndex, stage);
      await tickAt(now + HOUR); // hold over: advance (or complete)
    }
    const view = await service.show(id);
    assert.equal(view.rollout.state.status, 'completed');
    assert.deepEqual(view.devices, { success: DEVICES });
    assert.equal(offered().size, DEVICES);
    assert.deepEqual(
      view.timeline.map((e) => e.kind),
      [
        'created',
        'hold-started',
        'stage-started',
        'hold-started',
        'stage-started',
        'hold-started',
        'completed',
      ],
    );
    const audit = await stores.provisioning.listAudit({ target: id, limit: 50 });
    assert.ok(audit.some((entry) => entry.action === 'rollout.completed' && entry.actor === 'system'));
    assert.ok(audit.some((entry) => entry.action === 'rollout.created' && entry.actor === 'alice'));
  });

  it('offers each device the maintenance window of the first group it is in, none outside a group', async () => {
    const north = { cron: '0 2 * * *', durationS: 3600, timezone: 'Europe/Berlin' };
    const south = { cron: '30 23 * * SAT', durationS: 7200, timezone: 'America/New_York' };
    const { rollout } = await service.create(
      {
        ...spec,
        stages: [{ percent: 100, holdS: 0 }],
        maintenanceWindows: [
          { selector: { tags: { site: 'north' } }, ...north },
          { selector: { tags: { site: 'south' } }, ...south },
          { selector: { tags: { site: 'north' } }, ...south }, // never applies: north matched first
        ],
      },
      'alice',
    );
    await tickAt(now + 1000);
    const offers = new Map(notified.map(([id, n]) => [id, n.offer]));
    assert.equal(offers.size, DEVICES);
    for (let i = 0; i < DEVICES; i++) {
      const offer = offers.get(`d${String(i).padStart(3, '0')}`);
      const expected = [north, south, undefined][i % 3];
      assert.deepEqual(offer?.installWindow, expected, `d${i}`);
      if (expected === undefined) assert.equal(offer != null && 'installWindow' in offer, false);
    }
    // One deployment per distinct window, each storing its window.
    const stored = (await stores.updates.listDeployments({ limit: 10 })).items;
    assert.deepEqual(
      stored.map((d) => d.installWindow).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [null, north, south].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    assert.ok(stored.every((d) => d.source === `rollout:${rollout.id}`));

    // Parked at `downloaded` by a closed window far past the stuck timeout: waiting, not stuck.
    await report('downloaded');
    for (let i = 0; i < 4; i++) await tickAt(now + 24 * HOUR);
    const view = await service.show(rollout.id);
    assert.equal(view.rollout.state.status, 'running');
    assert.deepEqual(view.devices, { downloaded: DEVICES });
    assert.equal(view.stages[0]?.summary.stuck, 0);
    await report('success');
    await tickAt(now + 1000);
    assert.equal((await service.show(rollout.id)).rollout.state.status, 'completed');
  });

  it('pauses at the canaries when they fail, and no other device is offered anything', async () => {
    const { rollout, stageSizes } = await service.create(spec, 'alice');
    await tickAt(now + 1000);
    const canaries = offered();
    assert.equal(canaries.size, stageSizes[0]);
    await report('failed');
    await tickAt(now + 1000);
    const view = await service.show(rollout.id);
    assert.equal(view.rollout.state.status, 'paused');
    assert.equal(view.rollout.state.pauseReason?.kind, 'gate');
    assert.equal(view.stages[0]?.gates.find((g) => g.gate === 'failure-rate')?.status, 'fail');
    for (let i = 0; i < 5; i++) await tickAt(now + 24 * HOUR);
    assert.deepEqual(offered(), canaries);
    assert.equal((await service.show(rollout.id)).rollout.state.status, 'paused');
  });

  it('continues exactly where it was after a restart on the same store', async () => {
    const { rollout } = await service.create(spec, 'alice');
    await tickAt(now + 1000);
    await report('success');
    await tickAt(now + 1000); // hold started
    const before = await service.show(rollout.id);
    await stores.close();
    stores = await openStores({ kind: 'sqlite', file });
    build();
    await tickAt(now + 1000); // a tick right after the restart changes nothing
    const after = await service.show(rollout.id);
    // Only the late-device watermark moves: it records that the tick looked.
    assert.deepEqual({ ...after.rollout, selectedThroughMs: 0 }, { ...before.rollout, selectedThroughMs: 0 });
    assert.equal(after.rollout.selectedThroughMs, now);
    assert.deepEqual(after.timeline, before.timeline);
    await tickAt(now + 24 * HOUR);
    assert.equal((await service.show(rollout.id)).rollout.state.stageIndex, 1);
  });

  it('records a device deployed by a tick that stopped before recording it, without deploying twice', async () => {
    const { rollout } = await service.create({ ...spec, stages: [{ percent: 100 }] }, 'alice');
    // As if a tick had deployed and crashed: the deployment exists, the membership does not say so.
    const ids = (await stores.rollouts.listMembers(rollout.id)).map((m) => m.deviceId);
    await deployments.deploy(
      {
        model: 'sensor-x',
        version: '2.4.1',
        deviceIds: ids,
        installNow: true,
        force: false,
        installWindow: null,
        replace: false,
      },
      { actor: 'rollout', source: 'rollout', origin: `rollout:${rollout.id}` },
    );
    await tickAt(now + 1000);
    assert.equal((await stores.updates.listDeployments({ limit: 10 })).items.length, 1);
    assert.ok((await stores.rollouts.listMembers(rollout.id)).every((m) => m.deploymentId !== null));
  });

  it('counts the starts of a tick that stopped before recording them against the rate limit', async () => {
    const { rollout } = await service.create(
      { ...spec, stages: [{ percent: 100, holdS: 0 }], maxStartsPerMinute: 15 },
      'alice',
    );
    const ids = (await stores.rollouts.listMembers(rollout.id)).map((m) => m.deviceId).slice(0, 10);
    await deployments.deploy(
      {
        model: 'sensor-x',
        version: '2.4.1',
        deviceIds: ids,
        installNow: true,
        force: false,
        installWindow: null,
        replace: false,
      },
      { actor: 'rollout', source: 'rollout', origin: `rollout:${rollout.id}` },
    );
    await tickAt(now + 1000);
    assert.equal(offered().size, 15, 'the ten recorded late and five more, not fifteen more');
  });

  it('respects the start rate limit', async () => {
    const { rollout } = await service.create(
      { ...spec, stages: [{ percent: 100, holdS: 0 }], maxStartsPerMinute: 15 },
      'alice',
    );
    await tickAt(now + 1000);
    assert.equal(offered().size, 15);
    await tickAt(now + 30_000);
    assert.equal(offered().size, 15);
    await tickAt(now + 31_000);
    assert.equal(offered().size, 30);
    assert.equal((await service.show(rollout.id)).devices['not-started'], 10);
  });

  it('pause, resume, approve and cancel, audited with the actor; cancel withdraws waiting offers', async () => {
    const stages = [{ percent: 50, manualApproval: true, holdS: 0 }, { percent: 100 }];
    const { rollout } = await service.create({ ...spec, stages }, 'alice');
    const id = rollout.id;
    await service.pause(id, 'bob', 'weekend');
    await tickAt(now + 1000);
    assert.equal(offered().size, 0, 'a paused rollout starts nobody');
    await assert.rejects(service.approve(id, 'bob'), ConflictError);
    await service.resume(id, 'bob');
    await tickAt(now + 1000);
    await report('success');
    await tickAt(now + 1000);
    assert.equal((await service.show(id)).rollout.state.status, 'waiting-approval');
    await service.approve(id, 'carol');
    await tickAt(now + 1000);
    const started = offered().size;
    assert.equal(started, DEVICES);
    await service.cancel(id, 'dave');
    const view = await service.show(id);
    assert.equal(view.rollout.state.status, 'cancelled');
    assert.equal(view.devices.cancelled, DEVICES - (view.stages[0]?.devices ?? 0));
    const actions = (await stores.provisioning.listAudit({ target: id, limit: 50 })).map(
      (e) => `${e.action}:${e.actor}`,
    );
    for (const expected of [
      'rollout.paused:bob',
      'rollout.resumed:bob',
      'rollout.approved:carol',
      'rollout.cancelled:dave',
    ])
      assert.ok(actions.includes(expected), expected);
    await assert.rejects(service.show('nope'), NotFoundError);
  });

  it('refuses bad input before anything starts', async () => {
    const refuses = async (input: unknown, field: string) =>
      assert.rejects(service.create(input, 'alice'), (error: unknown) => {
        assert.ok(error instanceof ValidationError, String(error));
        assert.ok(field in (error.details ?? {}), JSON.stringify(error.details));
        return true;
      });
    await refuses({ ...spec, selector: { regions: ['mars'] } }, 'selector');
    await refuses({ ...spec, release: { model: 'sensor-x', version: '9.9.9' } }, 'version');
    await refuses({ ...spec, stages: [{ percent: 50 }, { percent: 10 }, { percent: 100 }] }, 'issues');
    await stores.releases.createRelease(newRelease({ version: '3.0.0', hardwareRevisions: ['rev-z'] }), t0);
    await refuses({ ...spec, release: { model: 'sensor-x', version: '3.0.0' } }, 'excluded');
    assert.deepEqual(await stores.rollouts.listActiveRollouts(), []);
  });

  it('refuses a device already in another active rollout', async () => {
    await service.create({ ...spec, selector: { deviceIds: ['d000', 'd001'] } }, 'alice');
    await assert.rejects(service.create(spec, 'bob'), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.equal((error.details?.devices as unknown[]).length, 2);
      return true;
    });
  });

  it('the driver ticks on the injected timers', async () => {
    const time = fakeTime(t0);
    const ticks: number[] = [];
    const driver = startRolloutDriver(
      {
        service: { tick: (ms) => Promise.resolve(void ticks.push(ms)) },
        clock: time.clock,
        timers: time.timers,
        logger,
      },
      { tickIntervalMs: 10_000 },
    );
    for (let i = 0; i < 7; i++) {
      time.advance(5_000);
      await new Promise((resolve) => setImmediate(resolve)); // let the tick settle
    }
    await driver.stop();
    time.advance(20_000);
    assert.deepEqual(ticks, [t0 + 10_000, t0 + 20_000, t0 + 30_000]);
  });
});
