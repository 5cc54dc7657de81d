/**
 * The UpdateStore contract, written once and run against every implementation (sqlite,
 * postgres). `makeStores` must return fresh, empty, migrated stores; the suite closes them after
 * each test.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { UpdateStatus } from '../../src/contracts/update-messages.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/infra/errors.ts';
import type { Stores } from '../../src/store/open-store.ts';
import type { NewDeployment } from '../../src/store/update-types.ts';
import { iso, t0 } from './provisioning-fixtures.ts';
import type { StoresFactory } from './provisioning-store.contract.ts';
import { newRelease } from './release-store.contract.ts';

export function newDeployment(overrides: Partial<NewDeployment> = {}): NewDeployment {
  return {
    id: 'dep-1',
    hardwareModel: 'sensor-x',
    version: '2.4.1',
    target: 'sensor-x_2.4.1.img',
    installNow: true,
    force: false,
    installWindow: null,
    source: 'manual',
    createdBy: 'api',
    deviceIds: ['d1', 'd2'],
    ...overrides,
  };
}

function status(overrides: Partial<UpdateStatus> & Pick<UpdateStatus, 'seq'>): UpdateStatus {
  return { deploymentId: 'dep-1', version: '2.4.1', state: 'downloading', ...overrides };
}

export function updateStoreContract(makeStores: StoresFactory): void {
  describe('UpdateStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
      for (const id of ['d1', 'd2', 'd3']) await stores.devices.createDevice({ id, serial: `S-${id}` }, t0);
      await stores.releases.createRelease(newRelease(), t0);
      await stores.releases.createRelease(newRelease({ version: '2.5.0' }), t0);
    });
    afterEach(async () => {
      await stores.close();
    });
    const updates = () => stores.updates;

    it('creates a deployment with an offered execution per device and records the offer', async () => {
      const { deployment, replaced } = await updates().createDeployment(
        newDeployment({ installNow: false, force: true, source: 'rollout:r1' }),
        { replace: false },
        t0,
      );
      assert.deepEqual(replaced, []);
      assert.deepEqual(deployment, {
        id: 'dep-1',
        hardwareModel: 'sensor-x',
        version: '2.4.1',
        target: 'sensor-x_2.4.1.img',
        installNow: false,
        force: true,
        installWindow: null,
        source: 'rollout:r1',
        createdBy: 'api',
        createdAt: iso(t0),
        cancelledAt: null,
      });
      assert.deepEqual(await updates().getDeployment('dep-1'), deployment);
      assert.equal(await updates().getDeployment('dep-2'), undefined);
      assert.deepEqual(await updates().countExecutions('dep-1'), { offered: 2 });
      const active = await updates().activeExecution('d1');
      assert.equal(active?.deployment.id, 'dep-1');
      assert.deepEqual(active?.execution, {
        deviceId: 'd1',
        deploymentId: 'dep-1',
        state: 'offered',
        progress: null,
        reason: null,
        detail: null,
        delta: null,
        bytes: null,
        lastSeq: null,
        offeredAt: iso(t0),
        updatedAt: iso(t0),
        finishedAt: null,
      });
      assert.equal(await updates().activeExecution('d3'), undefined);
      const history = await updates().listHistory('d1', { limit: 10 });
      assert.deepEqual(
        history.map((h) => [h.deploymentId, h.state, h.seq, h.at]),
        [['dep-1', 'offered', null, iso(t0)]],
      );
    });

    it('keeps the install window of a deployment, in every read', async () => {
      const installWindow = { cron: '*/15 22-23 * * MON-FRI', durationS: 600, timezone: 'America/New_York' };
      const { deployment } = await updates().createDeployment(
        newDeployment({ installWindow }),
        { replace: false },
        t0,
      );
      assert.deepEqual(deployment.installWindow, installWindow);
      assert.deepEqual((await updates().getDeployment('dep-1'))?.installWindow, installWindow);
      assert.deepEqual((await updates().activeExecution('d1'))?.deployment.installWindow, installWindow);
      const page = await updates().listDeployments({ limit: 10 });
      assert.deepEqual(page.items[0]?.installWindow, installWindow);
      const applied = await updates().applyStatus('d1', status({ seq: 1, state: 'downloaded' }), t0 + 1);
      assert.equal(applied.outcome, 'applied');
      if (applied.outcome === 'applied') assert.deepEqual(applied.deployment.installWindow, installWindow);
      const cancelled = await updates().cancelDeployment('dep-1', t0 + 2);
      assert.deepEqual(cancelled.deployment.installWindow, installWindow);
    });

    it('refuses a second active deployment for a device, naming it, unless replace', async () => {
      await updates().createDeployment(newDeployment(), { replace: false }, t0);
      const second = newDeployment({ id: 'dep-2', version: '2.5.0', deviceIds: ['d2', 'd3'] });
      await assert.rejects(
        updates().createDeployment(second, { replace: false }, t0 + 1),
        (error: unknown) => {
          assert.ok(error instanceof ConflictError);
          assert.deepEqual(error.details?.['active'], [{ deviceId: 'd2', deploymentId: 'dep-1' }]);
          assert.match(error.message, /d2 \(deployment dep-1\)/);
          return true;
        },
      );
      assert.equal(await updates().getDeployment('dep-2'), undefined, 'nothing written');
      assert.equal(await updates().activeExecution('d3'), undefined);

      const { replaced } = await updates().createDeployment(second, { replace: true }, t0 + 2);
      assert.deepEqual(replaced, [{ deviceId: 'd2', deploymentId: 'dep-1' }]);
      assert.equal((await updates().activeExecution('d2'))?.deployment.id, 'dep-2');
      assert.deepEqual(await updates().countExecutions('dep-1'), { offered: 1, cancelled: 1 });
      const history = await updates().listHistory('d2', { limit: 10 });
      assert.deepEqual(
        history.map((h) => [h.deploymentId, h.state, h.detail]),
        [
          ['dep-2', 'offered', null],
          ['dep-1', 'cancelled', 'replaced by deployment dep-2'],
          ['dep-1', 'offered', null],
        ],
      );
    });

    it('lets exactly one of two concurrent deployments take a device', async () => {
      const outcomes = await Promise.allSettled([
        updates().createDeployment(newDeployment({ deviceIds: ['d1'] }), { replace: false }, t0),
        updates().createDeployment(newDeployment({ id: 'dep-2', deviceIds: ['d1'] }), { replace: false }, t0),
      ]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      const refused = outcomes.find((o) => o.status === 'rejected');
      assert.ok(refused?.reason instanceof ConflictError);
    });

    it('refuses duplicate ids, unknown devices or releases and empty device lists', async () => {
      await updates().createDeployment(newDeployment(), { replace: false }, t0);
      await assert.rejects(
        updates().createDeployment(newDeployment({ deviceIds: ['d3'] }), { replace: false }, t0),
        ConflictError,
      );
      await assert.rejects(
        updates().createDeployment(
          newDeployment({ id: 'dep-2', deviceIds: ['nope'] }),
          { replace: false },
          t0,
        ),
        ValidationError,
      );
      await assert.rejects(
        updates().createDeployment(
          newDeployment({ id: 'dep-3', version: '9.9.9', deviceIds: ['d3'] }),
          { replace: false },
          t0,
        ),
        ValidationError,
      );
      await assert.rejects(
        updates().createDeployment(newDeployment({ id: 'dep-4', deviceIds: [] }), { replace: false }, t0),
        ValidationError,
      );
      assert.equal(await updates().activeExecution('d3'), undefined);
      assert.deepEqual(
        (await updates().listDeployments({ limit: 10 })).items.map((d) => d.id),
        ['dep-1'],
      );
    });

    it('applies statuses in seq order, records transitions, and keeps final states sticky', async () => {
      await updates().createDeployment(newDeployment(), { replace: false }, t0);
      const apply = (s: UpdateStatus, at = t0 + s.seq) => updates().applyStatus('d1', s, at);
      assert.equal(
        (await apply(status({ seq: 10, progress: 5, bytes: 100, delta: true }))).outcome,
        'applied',
      );
      // Progress within a state updates the execution but is not a transition.
      const progress = await apply(status({ seq: 11, progress: 50, bytes: 5000 }));
      assert.equal(progress.outcome, 'applied');
      assert.equal((await apply(status({ seq: 11, progress: 60 }))).outcome, 'duplicate');
      assert.equal((await apply(status({ seq: 9, state: 'installing' }))).outcome, 'duplicate');
      assert.equal((await apply(status({ seq: 12, version: '2.5.0' }))).outcome, 'version_mismatch');
      assert.equal((await apply(status({ seq: 13, deploymentId: 'dep-9' }))).outcome, 'not_assigned');
      assert.equal((await apply(status({ seq: 14, state: 'installing' }))).outcome, 'applied');
      const done = await apply(status({ seq: 15, state: 'success' }));
      assert.ok(done.outcome === 'applied');
      assert.equal(done.finished, true);
      assert.equal(done.deployment.id, 'dep-1');
      assert.deepEqual(
        [done.execution.state, done.execution.bytes, done.execution.delta, done.execution.lastSeq],
        ['success', 5000, true, 15],
      );
      assert.equal(done.execution.finishedAt, iso(t0 + 15));
      assert.equal(
        (await apply(status({ seq: 16, state: 'failed', reason: 'internal' }))).outcome,
        'ignored',
      );
      assert.equal(await updates().activeExecution('d1'), undefined);
      assert.deepEqual(await updates().countExecutions('dep-1'), { offered: 1, success: 1 });
      const history = await updates().listHistory('d1', { limit: 10 });
      assert.deepEqual(
        history.map((h) => [h.state, h.seq]),
        [
          ['success', 15],
          ['installing', 14],
          ['downloading', 10],
          ['offered', null],
        ],
      );
      assert.deepEqual(
        (await updates().listHistory('d1', { limit: 2 })).map((h) => h.state),
        ['success', 'installing'],
      );
    });

    it('records a failure with its reason and compares seqs across deployments', async () => {
      await updates().createDeployment(newDeployment({ deviceIds: ['d1'] }), { replace: false }, t0);
      await updates().applyStatus(
        'd1',
        status({ seq: 100, state: 'failed', reason: 'hash_mismatch', detail: 'x' }),
        t0,
      );
      await updates().createDeployment(
        newDeployment({ id: 'dep-2', version: '2.5.0', deviceIds: ['d1'] }),
        { replace: false },
        t0 + 1,
      );
      const next = { deploymentId: 'dep-2', version: '2.5.0' };
      assert.equal(
        (await updates().applyStatus('d1', status({ ...next, seq: 50 }), t0)).outcome,
        'duplicate',
      );
      assert.equal((await updates().applyStatus('d1', status({ ...next, seq: 101 }), t0)).outcome, 'applied');
      const first = (await updates().listExecutions('dep-1', { limit: 10 })).items[0];
      assert.deepEqual([first?.state, first?.reason, first?.detail], ['failed', 'hash_mismatch', 'x']);
    });

    it('cancels: withdraws active offers, leaves finished ones, refuses later statuses, is idempotent', async () => {
      await updates().createDeployment(
        newDeployment({ deviceIds: ['d1', 'd2', 'd3'] }),
        { replace: false },
        t0,
      );
      await updates().applyStatus('d3', status({ seq: 1, state: 'success' }), t0 + 1);
      await updates().applyStatus('d2', status({ seq: 1 }), t0 + 1);
      const { deployment, withdrawn } = await updates().cancelDeployment('dep-1', t0 + 2);
      assert.equal(deployment.cancelledAt, iso(t0 + 2));
      assert.deepEqual(withdrawn, ['d1', 'd2']);
      assert.deepEqual(await updates().countExecutions('dep-1'), { cancelled: 2, success: 1 });
      assert.equal((await updates().applyStatus('d2', status({ seq: 2 }), t0 + 3)).outcome, 'cancelled');
      const again = await updates().cancelDeployment('dep-1', t0 + 4);
      assert.deepEqual([again.deployment.cancelledAt, again.withdrawn], [iso(t0 + 2), []]);
      await assert.rejects(updates().cancelDeployment('dep-9', t0), NotFoundError);
      // The devices are free for a new deployment.
      await updates().createDeployment(
        newDeployment({ id: 'dep-2', deviceIds: ['d1', 'd2'] }),
        { replace: false },
        t0 + 5,
      );
    });

    it('looks up active executions and executions of deployments in batches', async () => {
      const many = Array.from({ length: 1100 }, (_, i) => `b${String(i).padStart(4, '0')}`);
      for (const id of many) await stores.devices.createDevice({ id, serial: `S-${id}` }, t0);
      await updates().createDeployment(
        newDeployment({ deviceIds: many.slice(0, 700) }),
        { replace: false },
        t0,
      );
      await updates().createDeployment(
        newDeployment({ id: 'dep-2', version: '2.5.0', deviceIds: [...many.slice(700), 'd1'] }),
        { replace: false },
        t0,
      );
      // b0000 finishes: no longer active, still an execution of dep-1.
      await updates().applyStatus('b0000', status({ seq: 1, state: 'success' }), t0 + 1);
      const active = await updates().activeExecutions([...many, 'd1', 'd2', 'b0001']);
      assert.equal(active.size, 1100, 'every device but b0000 and d2, each once');
      assert.equal(active.has('b0000'), false);
      assert.equal(active.has('d2'), false);
      assert.equal(active.get('b0001')?.deployment.id, 'dep-1');
      assert.equal(active.get('d1')?.deployment.version, '2.5.0');
      assert.equal(active.get('b0999')?.execution.state, 'offered');
      assert.deepEqual(
        active.get('b0001')?.execution,
        await updates()
          .activeExecution('b0001')
          .then((a) => a?.execution),
      );
      assert.equal((await updates().activeExecutions([])).size, 0);
      const executions = await updates().executionsOfDeployments(['dep-1', 'dep-2', 'nope']);
      assert.equal(executions.length, 1101);
      assert.equal(executions.find((e) => e.deviceId === 'b0000')?.state, 'success');
      assert.deepEqual(await updates().executionsOfDeployments([]), []);
    });

    it('pages deployments newest first and executions by device id', async () => {
      for (const [index, id] of ['dep-a', 'dep-b', 'dep-c'].entries()) {
        await updates().createDeployment(
          newDeployment({ id, deviceIds: [`d${index + 1}`] }),
          { replace: false },
          t0,
        );
      }
      const first = await updates().listDeployments({ limit: 2 });
      assert.deepEqual(
        first.items.map((d) => d.id),
        ['dep-c', 'dep-b'],
      );
      assert.ok(first.nextCursor);
      const second = await updates().listDeployments({ limit: 2, cursor: first.nextCursor });
      assert.deepEqual([second.items.map((d) => d.id), second.nextCursor], [['dep-a'], undefined]);

      await updates().cancelDeployment('dep-a', t0);
      await updates().createDeployment(
        newDeployment({ id: 'dep-z', deviceIds: ['d3', 'd1'] }),
        { replace: true },
        t0,
      );
      const page = await updates().listExecutions('dep-z', { limit: 1 });
      assert.deepEqual(
        page.items.map((e) => e.deviceId),
        ['d1'],
      );
      const rest = await updates().listExecutions('dep-z', { limit: 1, cursor: page.nextCursor });
      assert.deepEqual([rest.items.map((e) => e.deviceId), rest.nextCursor], [['d3'], undefined]);

      const active = await updates().listActiveAssignments({ limit: 2 });
      assert.deepEqual(active.items, [
        { deviceId: 'd1', deploymentId: 'dep-z' },
        { deviceId: 'd2', deploymentId: 'dep-b' },
      ]);
      const last = await updates().listActiveAssignments({ limit: 2, cursor: active.nextCursor });
      assert.deepEqual(
        [last.items, last.nextCursor],
        [[{ deviceId: 'd3', deploymentId: 'dep-z' }], undefined],
      );
    });
  });
}
