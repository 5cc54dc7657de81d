import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStores } from '../../src/store/open-store.ts';
import { assertFullyMigrated, databaseAtVersion, tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { certificateRequest, newBatch, t0 } from './provisioning-fixtures.ts';
import { auditLogContract } from './audit-log.contract.ts';
import { provisioningStoreContract } from './provisioning-store.contract.ts';

const files = tempDatabaseFiles('provisioning');
const freshFile = () => files.fresh();

before(() => files.open());
after(() => files.close());

describe('SqliteProvisioningStore', () => {
  provisioningStoreContract(() => openStores({ kind: 'sqlite', file: freshFile() }));

  let auditFile = '';
  auditLogContract(
    () => {
      auditFile = freshFile();
      return openStores({ kind: 'sqlite', file: auditFile });
    },
    () => (statement) => {
      const db = new Database(auditFile);
      try {
        db.exec(statement);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      } finally {
        db.close();
      }
    },
  );

  it('upgrades a version-1 database and keeps its devices', async () => {
    const file = freshFile();
    databaseAtVersion(file, 1);

    const stores = await openStores({ kind: 'sqlite', file });
    try {
      const device = await stores.devices.getDevice('d-old');
      assert.deepEqual([device?.serial, device?.tags, device?.owner], ['S-old', { site: 'ber' }, 'ops']);
      assert.equal(await stores.provisioning.isDeviceRevoked('d-old'), false);
      await stores.provisioning.createBatch(newBatch(), t0);
      await stores.provisioning.completeProvisioning(certificateRequest('S1'));
      assert.equal((await stores.devices.fleetSummary()).total, 2);
    } finally {
      await stores.close();
    }
    assertFullyMigrated(file);
  });

  it('shares one handle: closing the stores closes both', async () => {
    const stores = await openStores({ kind: 'sqlite', file: freshFile() });
    await stores.devices.close();
    await assert.rejects(stores.provisioning.getBatch('b-1'), /closed/);
    await stores.close();
  });
});
