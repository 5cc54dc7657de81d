/**
 * The RolloutStore contract, written once and run against every implementation (sqlite,
 * postgres). `makeStores` must return fresh, empty, migrated stores; the suite closes them after
 * each test.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/infra/errors.ts';
import { initialRolloutState } from '../../src/ota/rollouts/rollout-state.ts';
import { parseRolloutSpec } from '../../src/ota/rollouts/rollout-spec.ts';
import { createdEvent, type TimelineEvent } from '../../src/ota/rollouts/timeline.ts';
import type { Stores } from '../../src/store/open-store.ts';
import type { NewRollout } from '../../src/store/rollout-types.ts';
import { t0 } from './provisioning-fixtures.ts';
import type { StoresFactory } from './provisioning-store.contract.ts';

export function newRollout(overrides: Partial<NewRollout> = {}): NewRollout {
  return {
    id: 'ro-1',
    spec: parseRolloutSpec({ release: { model: 'sensor-x', version: '2.4.1' } }),
    state: initialRolloutState(t0),
    createdBy: 'alice',
    devices: [
      { deviceId: 'd1', stageIndex: 0 },
      { deviceId: 'd2', stageIndex: 1 },
      { deviceId: 'd3', stageIndex: 1 },
    ],
    event: createdEvent('alice', t0),
    ...overrides,
  };
}

const pausedEvent: TimelineEvent = {
  atMs: t0 + 5,
  kind: 'paused',
  actor: 'bob',
  stageIndex: 0,
  message: 'paused by bob',
  details: { note: 'look first' },
};

const joinedEvent: TimelineEvent = {
  atMs: t0 + 50,
  kind: 'devices-joined',
  actor: 'system',
  stageIndex: 0,
  message: '2 devices joined the selector',
  details: { devices: 2 },
};

export function rolloutStoreContract(makeStores: StoresFactory): void {
  describe('RolloutStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });
    const rollouts = () => stores.rollouts;

    it('creates a rollout with its devices and first event, and reads it back', async () => {
      const input = newRollout();
      const created = await rollouts().createRollout(input, t0);
      assert.deepEqual(created, {
        id: 'ro-1',
        spec: input.spec,
        state: input.state,
        version: 1,
        createdBy: 'alice',
        createdAtMs: t0,
        updatedAtMs: t0,
        selectedThroughMs: t0,
        rescannedAtMs: t0,
      });
      assert.deepEqual(await rollouts().getRollout('ro-1'), created);
      assert.equal(await rollouts().getRollout('nope'), undefined);
      assert.deepEqual(
        (await rollouts().listMembers('ro-1')).map((m) => [m.deviceId, m.stageIndex, m.deploymentId]),
        [
          ['d1', 0, null],
          ['d2', 1, null],
          ['d3', 1, null],
        ],
      );
      assert.deepEqual(await rollouts().listTimeline('ro-1'), [input.event]);
    });

    it('refuses a device that is in another active rollout, naming it, and writes nothing', async () => {
      await rollouts().createRollout(newRollout(), t0);
      const overlapping = newRollout({
        id: 'ro-2',
        devices: [
          { deviceId: 'd3', stageIndex: 0 },
          { deviceId: 'd9', stageIndex: 0 },
        ],
      });
      await assert.rejects(rollouts().createRollout(overlapping, t0 + 1), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.deepEqual(error.details?.devices, [{ deviceId: 'd3', rolloutId: 'ro-1' }]);
        return true;
      });
      assert.equal(await rollouts().getRollout('ro-2'), undefined);
      assert.deepEqual(await rollouts().listMembers('ro-2'), []);
    });

    it('allows the devices of a finished rollout in a new one', async () => {
      const first = await rollouts().createRollout(newRollout(), t0);
      await rollouts().updateState(
        'ro-1',
        first.version,
        { ...first.state, status: 'cancelled' },
        pausedEvent,
        t0 + 5,
      );
      await rollouts().createRollout(newRollout({ id: 'ro-2' }), t0 + 10);
      assert.deepEqual(
        (await rollouts().listActiveRollouts()).map((r) => r.id),
        ['ro-2'],
      );
      assert.deepEqual(
        (await rollouts().listRollouts(10)).map((r) => r.id),
        ['ro-2', 'ro-1'],
        'every rollout, newest first',
      );
      assert.equal((await rollouts().listRollouts(1)).length, 1);
    });

    it('updates the state by compare-and-set and appends the event with it', async () => {
      const created = await rollouts().createRollout(newRollout(), t0);
      const paused = {
        ...created.state,
        status: 'paused' as const,
        pauseReason: { kind: 'operator' as const, actor: 'bob', message: 'look first' },
      };
      const updated = await rollouts().updateState('ro-1', 1, paused, pausedEvent, t0 + 5);
      assert.equal(updated.version, 2);
      assert.equal(updated.updatedAtMs, t0 + 5);
      assert.deepEqual(updated.state, paused);
      // A second writer that read version 1 loses, and its event is not written.
      await assert.rejects(
        rollouts().updateState('ro-1', 1, created.state, pausedEvent, t0 + 6),
        ConflictError,
      );
      await assert.rejects(
        rollouts().updateState('nope', 1, created.state, pausedEvent, t0 + 6),
        NotFoundError,
      );
      assert.deepEqual(
        (await rollouts().listTimeline('ro-1')).map((e) => e.kind),
        ['created', 'paused'],
      );
      assert.deepEqual((await rollouts().getRollout('ro-1'))?.state, paused);
    });

    it('adds late devices with their event and watermarks, without a new version', async () => {
      await rollouts().createRollout(newRollout(), t0);
      await rollouts().addMembers('ro-1', {
        devices: [
          { deviceId: 'd7', stageIndex: 2 },
          { deviceId: 'd0', stageIndex: 0 },
        ],
        event: joinedEvent,
        selectedThroughMs: t0 + 50,
        rescannedAtMs: t0 + 40,
      });
      const rollout = await rollouts().getRollout('ro-1');
      assert.equal(rollout?.version, 1, 'an operator action that read version 1 still applies');
      assert.equal(rollout?.selectedThroughMs, t0 + 50);
      assert.equal(rollout?.rescannedAtMs, t0 + 40);
      assert.deepEqual(
        (await rollouts().listMembers('ro-1')).map((m) => [m.deviceId, m.stageIndex, m.startedAtMs]),
        [
          ['d0', 0, null],
          ['d1', 0, null],
          ['d2', 1, null],
          ['d3', 1, null],
          ['d7', 2, null],
        ],
      );
      assert.deepEqual(
        (await rollouts().listTimeline('ro-1')).map((e) => e.kind),
        ['created', 'devices-joined'],
      );
      // No device: only the watermarks move, and no event is written.
      await rollouts().addMembers('ro-1', {
        devices: [],
        event: null,
        selectedThroughMs: t0 + 60,
        rescannedAtMs: t0 + 40,
      });
      assert.equal((await rollouts().getRollout('ro-1'))?.selectedThroughMs, t0 + 60);
      assert.equal((await rollouts().listTimeline('ro-1')).length, 2);
    });

    it('refuses late devices already in an active rollout (this one too), writing nothing', async () => {
      await rollouts().createRollout(newRollout(), t0);
      await rollouts().createRollout(
        newRollout({ id: 'ro-2', devices: [{ deviceId: 'd5', stageIndex: 0 }] }),
        t0,
      );
      const join = (deviceIds: string[]) => ({
        devices: deviceIds.map((deviceId) => ({ deviceId, stageIndex: 0 })),
        event: joinedEvent,
        selectedThroughMs: t0 + 50,
        rescannedAtMs: t0,
      });
      await assert.rejects(rollouts().addMembers('ro-1', join(['d8', 'd5', 'd2'])), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.deepEqual(
          (error.details?.devices as Array<{ deviceId: string }>).map((d) => d.deviceId).sort(),
          ['d2', 'd5'],
        );
        return true;
      });
      assert.equal((await rollouts().listMembers('ro-1')).length, 3);
      assert.equal((await rollouts().getRollout('ro-1'))?.selectedThroughMs, t0);
      await assert.rejects(rollouts().addMembers('nope', join(['d8'])), NotFoundError);
      const first = await rollouts().getRollout('ro-1');
      assert.ok(first);
      await rollouts().updateState('ro-1', 1, { ...first.state, status: 'cancelled' }, pausedEvent, t0 + 5);
      await assert.rejects(rollouts().addMembers('ro-1', join(['d8'])), ConflictError);
    });

    it('finds which devices are in an active rollout, in batches', async () => {
      const many = Array.from({ length: 1203 }, (_, i) => ({ deviceId: `m${i}`, stageIndex: 0 }));
      await rollouts().createRollout(newRollout({ devices: many }), t0);
      await rollouts().createRollout(
        newRollout({ id: 'ro-2', devices: [{ deviceId: 'x1', stageIndex: 0 }] }),
        t0,
      );
      const asked = ['m0', 'm1202', 'x1', 'free', 'm600', 'm0'];
      assert.deepEqual([...(await rollouts().activeRolloutsOf(asked))].sort(), [
        ['m0', 'ro-1'],
        ['m1202', 'ro-1'],
        ['m600', 'ro-1'],
        ['x1', 'ro-2'],
      ]);
      const all = await rollouts().activeRolloutsOf(many.map((m) => m.deviceId));
      assert.equal(all.size, 1203);
      assert.equal((await rollouts().activeRolloutsOf([])).size, 0);
    });

    it('records started devices with their deployment or a skip reason', async () => {
      await rollouts().createRollout(newRollout(), t0);
      await rollouts().markStarted('ro-1', ['d2', 'd3'], { deploymentId: 'dep-7' }, t0 + 100);
      await rollouts().markStarted(
        'ro-1',
        ['d1'],
        { deploymentId: null, skipReason: 'already_installed' },
        t0 + 200,
      );
      assert.deepEqual(await rollouts().listMembers('ro-1'), [
        {
          deviceId: 'd1',
          stageIndex: 0,
          deploymentId: null,
          startedAtMs: t0 + 200,
          skipReason: 'already_installed',
        },
        { deviceId: 'd2', stageIndex: 1, deploymentId: 'dep-7', startedAtMs: t0 + 100, skipReason: null },
        { deviceId: 'd3', stageIndex: 1, deploymentId: 'dep-7', startedAtMs: t0 + 100, skipReason: null },
      ]);
    });
  });
}
