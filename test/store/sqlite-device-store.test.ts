import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { UnavailableError } from '../../src/infra/errors.ts';
import { openDeviceStore } from '../../src/store/open-store.ts';
import { migrateSqlite, sqliteMigrations } from '../../src/store/sqlite/migrations.ts';
import { deviceStoreContract } from './device-store.contract.ts';

let dir = '';
let files = 0;
const freshFile = () => join(dir, `store-${++files}.db`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-sqlite-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readLedger = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
  } finally {
    db.close();
  }
};

describe('SqliteDeviceStore', () => {
  deviceStoreContract(() => openDeviceStore({ kind: 'sqlite', file: freshFile() }));

  it('creates the missing parent directory and uses WAL', async () => {
    const file = join(dir, 'nested', 'deeper', 'flotilla.db');
    const store = await openDeviceStore({ kind: 'sqlite', file });
    await store.close();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('keeps data across close and reopen, without re-applying migrations', async () => {
    const file = freshFile();
    const first = await openDeviceStore({ kind: 'sqlite', file });
    const created = await first.createDevice({ id: 'd1', serial: 'S1', tags: { site: 'ber' } }, 1000);
    await first.recordConnected('d1', 'S1', 2000);
    await first.close();
    const ledger = readLedger(file);
    assert.equal(ledger.length, sqliteMigrations.length);

    const second = await openDeviceStore({ kind: 'sqlite', file });
    const reopened = await second.getDevice('d1');
    await second.close();
    const connected = { connectionState: 'online', lastSeenAt: iso(2000), connectionChangedAt: iso(2000) };
    assert.deepEqual(reopened, { ...created, ...connected });
    assert.deepEqual(readLedger(file), ledger);
  });

  it('refuses a database written by a newer Flotilla', async () => {
    const file = freshFile();
    await (await openDeviceStore({ kind: 'sqlite', file })).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)").run();
    db.close();
    await assert.rejects(openDeviceStore({ kind: 'sqlite', file }), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /newer Flotilla/);
      return true;
    });
  });

  it('applies only the pending migrations, each recorded once', () => {
    const db = new Database(freshFile());
    try {
      migrateSqlite(db);
      const next = {
        version: sqliteMigrations.length + 1,
        name: 'extra',
        sql: 'CREATE TABLE extra (x INTEGER)',
      };
      migrateSqlite(db, [...sqliteMigrations, next]);
      migrateSqlite(db, [...sqliteMigrations, next]);
      const versions = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all();
      assert.deepEqual(
        versions.map((row) => row.version),
        [...sqliteMigrations, next].map((m) => m.version),
      );
    } finally {
      db.close();
    }
  });

  it('reports an unopenable file as UnavailableError', async () => {
    const file = join(dir, 'not-a-dir');
    await (await openDeviceStore({ kind: 'sqlite', file })).close();
    await assert.rejects(openDeviceStore({ kind: 'sqlite', file: join(file, 'x.db') }), UnavailableError);
  });
});

const iso = (ms: number) => new Date(ms).toISOString();
