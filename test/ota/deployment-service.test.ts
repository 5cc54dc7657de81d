/** The deployment service on the real SQLite store, with a recording publish function. */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { UpdateNotify, UpdateStatus } from '../../src/contracts/update-messages.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/infra/errors.ts';
import { createLogger } from '../../src/infra/logger.ts';
import {
  createDeploymentService,
  deployRequestSchema,
  type DeploymentService,
} from '../../src/ota/deployments/deployment-service.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import type { NewRelease } from '../../src/store/release-types.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';

const files = tempDatabaseFiles('deployments');
before(() => files.open());
after(() => files.close());

const t0 = Date.UTC(2026, 0, 1);
const context = { actor: 'tester', source: 'local' };

function release(overrides: Partial<NewRelease> = {}): NewRelease {
  return {
    version: '2.4.1',
    hardwareModel: 'tracker-2',
    hardwareRevisions: ['B', 'C'],
    sha256: 'ab'.repeat(32),
    size: 1000,
    security: false,
    minVersion: null,
    mandatory: false,
    notes: '',
    createdBy: 'test',
    ...overrides,
  };
}

describe('deployment service', () => {
  let stores: Stores;
  let service: DeploymentService;
  let now = t0;
  let published: Array<{ deviceId: string; notify: UpdateNotify }>;
  const deploy = (request: Record<string, unknown>) =>
    service.deploy(deployRequestSchema.parse({ model: 'tracker-2', version: '2.4.1', ...request }), context);
  const status = (
    overrides: Partial<UpdateStatus> & Pick<UpdateStatus, 'deploymentId' | 'seq'>,
  ): UpdateStatus => ({ version: '2.4.1', state: 'downloading', ...overrides });

  beforeEach(async () => {
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    published = [];
    now = t0;
    service = createDeploymentService({
      store: stores.updates,
      devices: stores.devices,
      releases: stores.releases,
      audit: stores.provisioning,
      clock: { now: () => now },
      logger: createLogger('silent'),
      notify: (deviceId, notify) => {
        published.push({ deviceId, notify });
        return Promise.resolve();
      },
    });
    const fleet: Array<[string, string, string | null, string | null]> = [
      ['t1', 'tracker-2', 'B', '2.4.0'],
      ['t2', 'tracker-2', 'C', '2.4.0'],
      ['t3', 'tracker-2', 'B', '2.4.1'],
      ['t4', 'tracker-2', 'A', '2.4.0'],
      ['s1', 'sensor-x', 'B', '1.0.0'],
    ];
    for (const [id, model, revision, firmware] of fleet) {
      await stores.devices.createDevice(
        {
          id,
          serial: `S-${id}`,
          hardwareModel: model,
          hardwareRevision: revision,
          firmwareVersion: firmware,
        },
        t0,
      );
    }
    await stores.releases.createRelease(release(), t0);
    await stores.releases.createRelease(release({ version: '2.5.0', hardwareRevisions: [] }), t0);
  });
  afterEach(() => stores.close());

  it('offers a release to every fitting device of the model, skips the rest, pushes and audits', async () => {
    const result = await deploy({ installNow: false });
    assert.deepEqual(result.offered, ['t1', 't2']);
    assert.deepEqual(result.skipped, [
      { deviceId: 't3', reason: 'already_installed' },
      { deviceId: 't4', reason: 'incompatible_revision' },
    ]);
    assert.match(result.deployment.id, /^dep-/);
    const offer = {
      deploymentId: result.deployment.id,
      version: '2.4.1',
      target: 'tracker-2_2.4.1.img',
      installNow: false,
      force: false,
    };
    assert.deepEqual(published, [
      { deviceId: 't1', notify: { offer } },
      { deviceId: 't2', notify: { offer } },
    ]);
    assert.deepEqual(await service.offerFor('t1'), { offer });
    assert.deepEqual(await service.offerFor('t3'), { offer: null });
    const audit = await stores.provisioning.listAudit({ action: 'deployment.created', limit: 10 });
    assert.deepEqual(
      audit.map((a) => [a.target, a.actor, a.details['devices']]),
      [[result.deployment.id, 'tester', 2]],
    );
  });

  it('refuses unknown releases and devices, other models, incompatible revisions and no-op deployments', async () => {
    await assert.rejects(deploy({ version: '9.9.9' }), NotFoundError);
    await assert.rejects(deploy({ deviceIds: ['t1', 'ghost'] }), NotFoundError);
    await assert.rejects(deploy({ deviceIds: ['t1', 's1'] }), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(error.details?.['incompatible'], [{ deviceId: 's1', reason: 'other_model' }]);
      return true;
    });
    await assert.rejects(deploy({ deviceIds: ['t4'] }), /t4 \(incompatible_revision\)/);
    await assert.rejects(deploy({ deviceIds: ['t3'] }), /no device needs/);
    // An empty revision list fits every revision.
    assert.deepEqual((await deploy({ version: '2.5.0', deviceIds: ['t4'] })).offered, ['t4']);
    assert.deepEqual(published.length, 1);
  });

  it('names the active deployment in a conflict, and replaces it when asked', async () => {
    const first = await deploy({ deviceIds: ['t1'] });
    await assert.rejects(deploy({ version: '2.5.0', deviceIds: ['t1', 't2'] }), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.match(error.message, new RegExp(`t1 \\(deployment ${first.deployment.id}\\)`));
      return true;
    });
    now += 1000;
    const second = await deploy({ version: '2.5.0', deviceIds: ['t1', 't2'], replace: true });
    assert.deepEqual(second.replaced, [{ deviceId: 't1', deploymentId: first.deployment.id }]);
    assert.equal((await service.offerFor('t1')).offer?.deploymentId, second.deployment.id);
    const old = await service.summary(first.deployment.id, { limit: 10 });
    assert.deepEqual(old.counts, { cancelled: 1 });
  });

  it('applies statuses: stale seqs dropped, success clears the offer, final states stay', async () => {
    const { deployment } = await deploy({ deviceIds: ['t1'] });
    const id = deployment.id;
    published = [];
    const outcome = async (s: UpdateStatus) => (await service.applyStatus('t1', s)).outcome;
    assert.equal(await outcome(status({ deploymentId: id, seq: 1, progress: 10 })), 'applied');
    assert.equal(await outcome(status({ deploymentId: id, seq: 1, progress: 20 })), 'duplicate');
    for (const [seq, state] of [
      [2, 'downloaded'],
      [3, 'installing'],
      [4, 'rebooting'],
      [5, 'verifying'],
    ] as const) {
      assert.equal(await outcome(status({ deploymentId: id, seq, state })), 'applied');
    }
    assert.deepEqual(published, [], 'nothing pushed while it runs');
    assert.equal(await outcome(status({ deploymentId: id, seq: 6, state: 'success' })), 'applied');
    assert.deepEqual(published, [{ deviceId: 't1', notify: { offer: null } }]);
    assert.equal(
      await outcome(
        status({ deploymentId: id, seq: 7, state: 'rolled-back', reason: 'health_check_failed' }),
      ),
      'ignored',
    );
    const summary = await service.summary(id, { limit: 10 });
    assert.deepEqual(summary.counts, { success: 1 });
    assert.deepEqual(
      summary.devices.items.map((d) => [d.deviceId, d.state, d.lastSeq, d.firmwareVersion]),
      [['t1', 'success', 6, '2.4.0']],
      'the registry firmware is left to state/reported',
    );
    assert.deepEqual(
      (await service.history('t1', 100)).map((h) => h.state),
      ['success', 'verifying', 'rebooting', 'installing', 'downloaded', 'downloading', 'offered'],
    );
    await assert.rejects(service.history('ghost', 10), NotFoundError);
  });

  it('refuses statuses for another assignment and re-sends the current offer', async () => {
    const { deployment } = await deploy({ deviceIds: ['t1'] });
    published = [];
    const refused = await service.applyStatus('t1', status({ deploymentId: 'dep-other', seq: 1 }));
    assert.equal(refused.outcome, 'not_assigned');
    assert.equal(published[0]?.notify.offer?.deploymentId, deployment.id);
    const mismatch = await service.applyStatus(
      't1',
      status({ deploymentId: deployment.id, seq: 2, version: '2.5.0' }),
    );
    assert.equal(mismatch.outcome, 'version_mismatch');
  });

  it('cancel withdraws unfinished offers with {offer:null}, and later statuses are refused', async () => {
    const { deployment } = await deploy({});
    await service.applyStatus('t2', status({ deploymentId: deployment.id, seq: 1, state: 'success' }));
    published = [];
    const { withdrawn } = await service.cancel(deployment.id, context);
    assert.deepEqual(withdrawn, ['t1']);
    assert.deepEqual(published, [{ deviceId: 't1', notify: { offer: null } }]);
    assert.deepEqual(await service.offerFor('t1'), { offer: null });
    const late = await service.applyStatus('t1', status({ deploymentId: deployment.id, seq: 5 }));
    assert.equal(late.outcome, 'cancelled');
    await assert.rejects(service.cancel('dep-nope', context), NotFoundError);
    now += 1000;
    assert.deepEqual((await service.cancel(deployment.id, context)).withdrawn, [], 'idempotent');
    const audit = await stores.provisioning.listAudit({ action: 'deployment.cancelled', limit: 10 });
    assert.deepEqual(
      audit.map((a) => [a.target, a.details['withdrawn']]),
      [[deployment.id, 1]],
    );
    const listed = await service.list({ limit: 10 });
    assert.deepEqual(
      listed.items.map((d) => [d.id, d.cancelledAt !== null]),
      [[deployment.id, true]],
    );
  });
});
