import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStores } from '../../src/store/open-store.ts';
import { migrateSqlite, sqliteMigrations } from '../../src/store/sqlite/migrations.ts';
import { certificateRequest, newBatch, t0 } from './provisioning-fixtures.ts';
import { provisioningStoreContract } from './provisioning-store.contract.ts';

let dir = '';
let files = 0;
const freshFile = () => join(dir, `provisioning-${++files}.db`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-sqlite-provisioning-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteProvisioningStore', () => {
  provisioningStoreContract(() => openStores({ kind: 'sqlite', file: freshFile() }));

  it('upgrades a version-1 database and keeps its devices', async () => {
    const file = freshFile();
    const v1 = new Database(file);
    migrateSqlite(v1, sqliteMigrations.slice(0, 1));
    v1.prepare(
      `INSERT INTO devices (id, serial, tags, owner, created_at) VALUES ('d-old', 'S-old', '{"site":"ber"}', 'ops', 1000)`,
    ).run();
    v1.close();

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
    const db = new Database(file, { readonly: true });
    const versions = db.prepare<[], { version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    assert.deepEqual(
      versions.all().map((row) => row.version),
      sqliteMigrations.map((migration) => migration.version),
    );
    db.close();
  });

  it('shares one handle: closing the stores closes both', async () => {
    const stores = await openStores({ kind: 'sqlite', file: freshFile() });
    await stores.devices.close();
    await assert.rejects(stores.provisioning.getBatch('b-1'), /closed/);
    await stores.close();
  });
});
