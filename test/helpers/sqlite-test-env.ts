/** SQLite store tests: throw-away database files and databases left at an older migration. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite, sqliteMigrations } from '../../src/store/sqlite/migrations.ts';

/** A temp directory handing out fresh database file names; call `open()` in before() and `close()` in after(). */
export function tempDatabaseFiles(prefix: string): {
  open(): Promise<void>;
  close(): Promise<void>;
  fresh(): string;
} {
  let dir = '';
  let files = 0;
  return {
    async open() {
      dir = await mkdtemp(join(tmpdir(), `flotilla-sqlite-${prefix}-`));
    },
    close: () => rm(dir, { recursive: true, force: true }),
    fresh: () => join(dir, `${prefix}-${++files}.db`),
  };
}

/** Writes a database migrated only up to `version`, holding one device `d-old` (serial S-old, owner ops). */
export function databaseAtVersion(file: string, version: number): void {
  const db = new Database(file);
  migrateSqlite(db, sqliteMigrations.slice(0, version));
  db.prepare(
    `INSERT INTO devices (id, serial, tags, owner, created_at) VALUES ('d-old', 'S-old', '{"site":"ber"}', 'ops', 1000)`,
  ).run();
  db.close();
}

/** Asserts that every migration the code knows is recorded in the file. */
export function assertFullyMigrated(file: string): void {
  const db = new Database(file, { readonly: true });
  try {
    const versions = db
      .prepare<[], { version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      .all();
    assert.deepEqual(
      versions.map((row) => row.version),
      sqliteMigrations.map((migration) => migration.version),
    );
  } finally {
    db.close();
  }
}
