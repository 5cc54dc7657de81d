/**
 * SQLite schema migrations. Times are integer ms since the epoch; tags are a JSON object as text.
 * Append new migrations at the end; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';
import { pendingMigrations, type Migration } from '../migration-plan.ts';

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'devices',
    sql: `
      CREATE TABLE devices (
        id TEXT NOT NULL PRIMARY KEY,
        serial TEXT NOT NULL,
        hardware_model TEXT,
        hardware_revision TEXT,
        firmware_version TEXT,
        tags TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
        region TEXT,
        owner TEXT,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER,
        connection_state TEXT NOT NULL DEFAULT 'offline' CHECK (connection_state IN ('online', 'offline')),
        connection_changed_at INTEGER,
        reported_seq INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX devices_serial_key ON devices (serial);
      -- (filter column, id) serves both the filter and the id-ordered keyset paging.
      CREATE INDEX devices_hardware_model_idx ON devices (hardware_model, id);
      CREATE INDEX devices_firmware_version_idx ON devices (firmware_version, id);
      CREATE INDEX devices_connection_state_idx ON devices (connection_state, id);
    `,
  },
];

const createLedger = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`;

/** Applies pending migrations, each in its own transaction. UnavailableError if the file is newer. */
export function migrateSqlite(
  db: Database.Database,
  migrations: readonly Migration[] = sqliteMigrations,
): void {
  db.exec(createLedger);
  const appliedVersion = db.prepare<[], { version: number }>(
    'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
  );
  const record = db.prepare<[number, string]>(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER))",
  );
  const applyNext = db.transaction((): boolean => {
    const next = pendingMigrations(migrations, appliedVersion.get()?.version ?? 0)[0];
    if (next === undefined) return false;
    db.exec(next.sql);
    record.run(next.version, next.name);
    return true;
  });
  // IMMEDIATE takes the write lock before reading the version, so two processes opening the same
  // file at once apply each migration once; the loser sees it applied and moves on.
  while (applyNext.immediate()) {
    // keep going until nothing is pending
  }
}
