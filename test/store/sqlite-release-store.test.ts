import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStores } from '../../src/store/open-store.ts';
import { migrateSqlite, sqliteMigrations } from '../../src/store/sqlite/migrations.ts';
import { assertUpgradedKeepsDevices, releaseStoreContract } from './release-store.contract.ts';

let dir = '';
let files = 0;
const freshFile = () => join(dir, `releases-${++files}.db`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-sqlite-releases-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteReleaseStore', () => {
  releaseStoreContract(() => openStores({ kind: 'sqlite', file: freshFile() }));

  it('upgrades a version-2 database and keeps its devices', async () => {
    const file = freshFile();
    const v2 = new Database(file);
    migrateSqlite(v2, sqliteMigrations.slice(0, 2));
    v2.prepare(
      `INSERT INTO devices (id, serial, tags, owner, created_at) VALUES ('d-old', 'S-old', '{"site":"ber"}', 'ops', 1000)`,
    ).run();
    v2.close();

    const stores = await openStores({ kind: 'sqlite', file });
    try {
      await assertUpgradedKeepsDevices(stores);
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

  it('shares the handle: closing the stores closes the release store', async () => {
    const stores = await openStores({ kind: 'sqlite', file: freshFile() });
    await stores.close();
    await assert.rejects(stores.releases.listReleases({}), /closed/);
  });
});
