/** Seeds shared by the dashboard tests: devices, a release, two rollouts with executions in several states. */
import { initialRolloutState } from '../../src/ota/rollouts/rollout-state.ts';
import { parseRolloutSpec } from '../../src/ota/rollouts/rollout-spec.ts';
import { createdEvent } from '../../src/ota/rollouts/timeline.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { newDeployment } from '../store/update-store.contract.ts';
import { newRelease } from '../store/release-store.contract.ts';
import { t0 } from '../store/provisioning-fixtures.ts';

export { t0 };

/**
 * Devices d1..d6 (sensor-x; d1, d2 on 2.4.1), release sensor-x 2.4.1; rollout ro-1 (stages 10 %,
 * 100 %) over d1..d5: d1 skipped, d2 and d4 offered, d3 downloading, d5 not started; rollout ro-2
 * (created later, a count stage of 1) over d6, not started.
 */
export async function seedRollouts(stores: Stores): Promise<void> {
  for (const [i, id] of ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'].entries()) {
    await stores.devices.createDevice(
      { id, serial: `S-${id}`, hardwareModel: 'sensor-x', firmwareVersion: i < 2 ? '2.4.1' : '2.3.0' },
      t0,
    );
  }
  await stores.releases.createRelease(newRelease(), t0);
  const spec = parseRolloutSpec({
    release: { model: 'sensor-x', version: '2.4.1' },
    stages: [{ percent: 10 }, { percent: 100 }],
  });
  await stores.rollouts.createRollout(
    {
      id: 'ro-1',
      spec,
      state: initialRolloutState(t0),
      createdBy: 'alice',
      devices: ['d1', 'd2', 'd3', 'd4', 'd5'].map((deviceId, i) => ({
        deviceId,
        stageIndex: i === 0 ? 0 : 1,
      })),
      event: createdEvent('alice', t0),
    },
    t0,
  );
  await stores.updates.createDeployment(
    newDeployment({ id: 'dep-1', deviceIds: ['d2', 'd3', 'd4'], source: 'rollout:ro-1' }),
    { replace: false },
    t0,
  );
  await stores.rollouts.markStarted('ro-1', ['d2', 'd3', 'd4'], { deploymentId: 'dep-1' }, t0 + 1);
  await stores.rollouts.markStarted(
    'ro-1',
    ['d1'],
    { deploymentId: null, skipReason: 'already_installed' },
    t0 + 1,
  );
  await stores.updates.applyStatus(
    'd3',
    { deploymentId: 'dep-1', version: '2.4.1', state: 'downloading', seq: 1 },
    t0 + 2,
  );
  await stores.rollouts.createRollout(
    {
      id: 'ro-2',
      spec: parseRolloutSpec({
        release: { model: 'sensor-x', version: '2.4.1' },
        stages: [{ count: 1 }, { percent: 100 }],
      }),
      state: initialRolloutState(t0 + 10),
      createdBy: 'bob',
      devices: [{ deviceId: 'd6', stageIndex: 0 }],
      event: createdEvent('bob', t0 + 10),
    },
    t0 + 10,
  );
}
