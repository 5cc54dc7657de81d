// Devices joining an active rollout's selector after creation: new devices, devices whose
// attributes changed, the overlap rule, restarts and the periodic full re-selection.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { stageForLateDevice } from '../../src/ota/rollouts/cohorts.ts';
import type { Stage } from '../../src/ota/rollouts/rollout-spec.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { rolloutHarness, t0, type RolloutHarness } from './rollout-harness.ts';

const HOUR = 3_600_000;
const files = tempDatabaseFiles('rollout-joins');
before(() => files.open());
after(() => files.close());

const stages = [{ percent: 5 }, { percent: 50 }, { percent: 100 }];
const spec = {
  release: { model: 'sensor-x', version: '2.4.1' },
  stages,
  gates: { minReported: 1, minSuccessRate: 0.9, maxFailureRate: 0.1 },
};

/** The first `late-<n>` id that a rollout places in `stageIndex`. */
function lateIdIn(rolloutId: string, stageIndex: number, prefix = 'late'): string {
  for (let n = 0; ; n++) {
    const id = `${prefix}-${n}`;
    if (stageForLateDevice(rolloutId, id, stages as Stage[]) === stageIndex) return id;
  }
}

describe('late devices joining a rollout', () => {
  let h: RolloutHarness;
  const seq = new Map<string, number>();

  beforeEach(async () => {
    seq.clear();
    h = await rolloutHarness(files.fresh());
    for (let i = 0; i < 40; i++) await h.register(`d${String(i).padStart(3, '0')}`);
  });
  afterEach(() => h.close());

  /** Every device with an active execution reports success. */
  async function reportSuccess(): Promise<void> {
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
    }
  }

  const memberIds = async (rolloutId: string) =>
    new Map((await h.stores.rollouts.listMembers(rolloutId)).map((m) => [m.deviceId, m.stageIndex]));
  const joinedEvents = async (rolloutId: string) =>
    (await h.stores.rollouts.listTimeline(rolloutId)).filter((e) => e.kind === 'devices-joined');

  it('adds a device registered after creation to its stage, and starts it when that stage runs', async () => {
    const { rollout } = await h.service.create(spec, 'alice');
    const early = lateIdIn(rollout.id, 0);
    const later = lateIdIn(rollout.id, 2);
    await h.register(early);
    await h.register(later);
    await h.tickAt(h.now() + 1000);
    const members = await memberIds(rollout.id);
    assert.equal(members.get(early), 0);
    assert.equal(members.get(later), 2);
    assert.ok(h.offered().has(early), 'its stage is the current one: started in the same tick');
    assert.ok(!h.offered().has(later), 'a later stage waits for its turn');
    const [event] = await joinedEvents(rollout.id);
    assert.equal(event?.details.devices, 2);
    assert.deepEqual(event?.details.perStage, [1, 0, 1]);
    const audit = await h.stores.provisioning.listAudit({
      target: rollout.id,
      action: 'rollout.devices-joined',
      limit: 5,
    });
    assert.equal(audit.length, 1);
    for (let stage = 0; stage < 2; stage++) {
      await h.tickAt(h.now() + 1000); // starts the stage's devices
      await reportSuccess();
      await h.tickAt(h.now() + 1000); // the hold starts
      await h.tickAt(h.now() + 24 * HOUR); // and ends: the next stage
    }
    assert.equal((await h.service.show(rollout.id)).rollout.state.stageIndex, 2);
    assert.ok(!h.offered().has(later));
    await h.tickAt(h.now() + 1000); // the last stage's devices start
    assert.ok(h.offered().has(later));
  });

  it('adds a device whose firmware changed so that it now matches', async () => {
    await h.register('old', { firmwareVersion: '2.3.0' });
    const { rollout } = await h.service.create(
      { ...spec, selector: { firmwareVersions: ['2.4.0'] } },
      'alice',
    );
    assert.equal((await memberIds(rollout.id)).has('old'), false);
    await h.tickAt(h.now() + 1000);
    assert.equal((await memberIds(rollout.id)).has('old'), false);
    const report = { seq: 1, serial: 'S-old', hardwareModel: 'sensor-x', hardwareRevision: 'rev-a' };
    await h.stores.devices.applyReportedState('old', { ...report, firmwareVersion: '2.4.0' }, h.now() + 500);
    await h.tickAt(h.now() + 1000);
    assert.equal(
      (await memberIds(rollout.id)).get('old'),
      stageForLateDevice(rollout.id, 'old', stages as Stage[]),
    );
  });

  it('never adds a device that belongs to another active rollout', async () => {
    await h.register('us-1', { region: 'us' });
    await h.register('beta-1', { region: 'ap', tags: { ring: 'beta' } });
    const a = (await h.service.create({ ...spec, selector: { regions: ['us'] } }, 'alice')).rollout;
    const b = (await h.service.create({ ...spec, selector: { tags: { ring: 'beta' } } }, 'bob')).rollout;
    // us-1 (in A since creation) now matches B too; a new device matches both.
    const report = { seq: 1, serial: 'S-us-1', hardwareModel: 'sensor-x', hardwareRevision: 'rev-a' };
    await h.stores.devices.applyReportedState(
      'us-1',
      { ...report, firmwareVersion: '2.4.0', tags: { ring: 'beta' } },
      h.now(),
    );
    await h.register('both', { region: 'us', tags: { ring: 'beta' } });
    await h.tickAt(h.now() + 1000);
    const inA = await memberIds(a.id);
    const inB = await memberIds(b.id);
    assert.ok(inA.has('us-1') && !inB.has('us-1'));
    assert.equal(Number(inA.has('both')) + Number(inB.has('both')), 1, 'one rollout takes it, not both');
    await h.tickAt(h.now() + 1000);
    assert.equal(
      Number((await memberIds(a.id)).has('both')) + Number((await memberIds(b.id)).has('both')),
      1,
    );
  });

  it('leaves out devices that cannot take the release', async () => {
    const { rollout } = await h.service.create(spec, 'alice');
    await h.register('on-it', { firmwareVersion: '2.4.1' });
    await h.register('rev-z', { hardwareRevision: 'rev-z' });
    await h.register('gateway', { hardwareModel: 'gateway-1' });
    await h.tickAt(h.now() + 1000);
    const members = await memberIds(rollout.id);
    for (const id of ['on-it', 'rev-z', 'gateway']) assert.equal(members.has(id), false, id);
    assert.deepEqual(await joinedEvents(rollout.id), []);
  });

  it('adds nothing twice across a restart on the same file', async () => {
    const { rollout } = await h.service.create(spec, 'alice');
    await h.register('late-a');
    await h.tickAt(h.now() + 1000);
    await h.restart();
    await h.tickAt(h.now() + 1000); // inside the watermark's overlap: late-a is read again
    await h.tickAt(h.now() + 1000);
    assert.equal((await joinedEvents(rollout.id)).length, 1);
    assert.equal((await memberIds(rollout.id)).size, 41);
    assert.equal((await h.stores.rollouts.getRollout(rollout.id))?.selectedThroughMs, h.now());
  });

  it('finds a device the watermark missed at the next full re-selection', async () => {
    const { rollout } = await h.service.create(spec, 'alice');
    await h.tickAt(t0 + 5 * 60_000);
    // Registered by a server whose clock is an hour behind: older than the watermark can see.
    await h.stores.devices.createDevice(
      {
        id: 'skewed',
        serial: 'S-skewed',
        hardwareModel: 'sensor-x',
        hardwareRevision: 'rev-a',
        region: 'eu',
      },
      t0 - HOUR,
    );
    await h.tickAt(t0 + 6 * 60_000);
    assert.equal((await memberIds(rollout.id)).has('skewed'), false);
    await h.tickAt(t0 + 10 * 60_000); // rescanIntervalS: 600 since creation
    assert.ok((await memberIds(rollout.id)).has('skewed'));
    const events = await joinedEvents(rollout.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.details.rescan, true);
    assert.equal((await h.stores.rollouts.getRollout(rollout.id))?.rescannedAtMs, t0 + 10 * 60_000);
  });
});
