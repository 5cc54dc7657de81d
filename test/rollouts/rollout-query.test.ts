// Rollouts that select devices with the fleet query language (`selector.where`): creation, the
// dry run, refused queries, late joins through operator tags, and a query that stops working.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ValidationError } from '../../src/infra/errors.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { rolloutHarness, t0, type RolloutHarness } from './rollout-harness.ts';

const HOUR = 3_600_000;
const files = tempDatabaseFiles('rollout-query');
before(() => files.open());
after(() => files.close());

const spec = (where: string) => ({
  release: { model: 'sensor-x', version: '2.4.1' },
  selector: { where },
  stages: [{ percent: 50 }, { percent: 100 }],
});

describe('rollouts selecting by fleet query', () => {
  let h: RolloutHarness;
  beforeEach(async () => {
    h = await rolloutHarness(files.fresh(), { rescanIntervalMs: 10 * HOUR });
    for (let i = 0; i < 10; i++)
      await h.register(`eu-${i}`, { tags: i < 4 ? { ring: 'beta' } : {}, region: 'eu' });
    for (let i = 0; i < 5; i++) await h.register(`us-${i}`, { tags: { ring: 'beta' }, region: 'us' });
    await h.register('eu-old', { firmwareVersion: '2.4.1' });
  });
  afterEach(() => h.close());

  it('dry-runs and creates a rollout over exactly the devices the query matches', async () => {
    const where = 'region = "eu" and tag.ring = "beta" and firmware < 2.4.1';
    const plan = await h.service.dryRun(spec(where));
    assert.equal(plan.devices, 4);
    assert.deepEqual(plan.sample, ['eu-0', 'eu-1', 'eu-2', 'eu-3']);
    assert.equal(
      plan.stageSizes.reduce((a, b) => a + b, 0),
      4,
    );
    assert.equal((await h.stores.rollouts.listRollouts(10)).length, 0, 'a dry run stores nothing');
    const created = await h.service.create(spec(where), 'op');
    assert.equal(created.rollout.spec.selector.where, where);
    const members = await h.stores.rollouts.listMembers(created.rollout.id);
    assert.deepEqual(members.map((m) => m.deviceId).sort(), ['eu-0', 'eu-1', 'eu-2', 'eu-3']);
  });

  it('combines the query with the structured selector fields', async () => {
    const plan = await h.service.dryRun({
      ...spec('tag.ring = "beta"'),
      selector: { where: 'tag.ring = "beta"', regions: ['us'] },
    });
    assert.equal(plan.devices, 5);
  });

  it('refuses a bad query with its position, and a query matching nothing', async () => {
    await assert.rejects(h.service.dryRun(spec('region = "eu" and batery < 20')), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /did you mean "battery"/);
      assert.deepEqual((error.details as { position?: unknown }).position, {
        offset: 18,
        line: 1,
        column: 19,
      });
      return true;
    });
    await assert.rejects(h.service.create(spec('region = "mars"'), 'op'), /matches no sensor-x device/);
  });

  it('takes in devices that come to match later (operator tags), at the next tick', async () => {
    const created = await h.service.create(spec('tag.ring = "beta"'), 'op');
    assert.equal((await h.stores.rollouts.listMembers(created.rollout.id)).length, 9);
    await h.stores.devices.updateOperatorTags(
      ['eu-7', 'eu-8'],
      { set: { ring: 'beta' }, remove: [] },
      t0 + HOUR,
    );
    await h.tickAt(t0 + HOUR + 1000);
    const members = (await h.stores.rollouts.listMembers(created.rollout.id)).map((m) => m.deviceId);
    assert.ok(members.includes('eu-7') && members.includes('eu-8'), members.join(','));
    assert.equal(members.length, 11);
  });

  it('keeps ticking when a saved group its query names is deleted', async () => {
    await h.stores.groups.createGroup({ name: 'betas', query: 'tag.ring = "beta"' }, t0);
    const created = await h.service.create(spec('group = "betas" and region = "eu"'), 'op');
    assert.equal((await h.stores.rollouts.listMembers(created.rollout.id)).length, 4);
    await h.stores.groups.deleteGroup('betas');
    await h.register('eu-late', { tags: { ring: 'beta' } });
    await h.tickAt(t0 + 2 * HOUR);
    assert.equal((await h.stores.rollouts.listMembers(created.rollout.id)).length, 4, 'nobody joins');
    assert.equal((await h.service.show(created.rollout.id)).rollout.state.status, 'running');
  });
});
