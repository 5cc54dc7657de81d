import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { assertFullyMigrated, databaseAtVersion, tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { assertUpgradedKeepsDevices, releaseStoreContract } from './release-store.contract.ts';

const files = tempDatabaseFiles('releases');
const freshFile = () => files.fresh();

before(() => files.open());
after(() => files.close());

describe('SqliteReleaseStore', () => {
  releaseStoreContract(() => openStores({ kind: 'sqlite', file: freshFile() }));

  it('upgrades a version-2 database and keeps its devices', async () => {
    const file = freshFile();
    databaseAtVersion(file, 2);

    const stores = await openStores({ kind: 'sqlite', file });
    try {
      await assertUpgradedKeepsDevices(stores);
    } finally {
      await stores.close();
    }
    assertFullyMigrated(file);
  });

  it('shares the handle: closing the stores closes the release store', async () => {
    const stores = await openStores({ kind: 'sqlite', file: freshFile() });
    await stores.close();
    await assert.rejects(stores.releases.listReleases({}), /closed/);
  });
});
