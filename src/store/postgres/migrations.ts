/**
 * PostgreSQL schema migrations. Tables are created unqualified: every connection's search_path
 * is the configured schema (pg-pool.ts). Append new migrations at the end; never edit one that
 * has shipped.
 */
import type pg from 'pg';
import { pendingMigrations, type Migration } from '../migration-plan.ts';
import { inTransaction, schemaIdentifier } from './pg-pool.ts';

export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'devices',
    sql: `
      CREATE TABLE devices (
        -- "C" collation: byte order, the same order SQLite gives, whatever the database locale.
        id text COLLATE "C" NOT NULL CONSTRAINT devices_pkey PRIMARY KEY,
        serial text NOT NULL,
        hardware_model text,
        hardware_revision text,
        firmware_version text,
        tags jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
        region text,
        owner text,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz,
        connection_state text NOT NULL DEFAULT 'offline' CHECK (connection_state IN ('online', 'offline')),
        connection_changed_at timestamptz,
        reported_seq bigint
      );
      CREATE UNIQUE INDEX devices_serial_key ON devices (serial);
      -- (filter column, id) serves both the filter and the id-ordered keyset paging.
      CREATE INDEX devices_hardware_model_idx ON devices (hardware_model, id);
      CREATE INDEX devices_firmware_version_idx ON devices (firmware_version, id);
      CREATE INDEX devices_connection_state_idx ON devices (connection_state, id);
      CREATE INDEX devices_tags_idx ON devices USING gin (tags jsonb_path_ops);
    `,
  },
];

const createLedger = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer NOT NULL PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/**
 * Creates the schema if needed and applies pending migrations, each in its own transaction.
 * UnavailableError if the database was migrated by a newer Flotilla.
 */
export async function migratePostgres(
  pool: pg.Pool,
  schema: string,
  migrations: readonly Migration[] = postgresMigrations,
): Promise<void> {
  const identifier = schemaIdentifier(schema);
  const applyNext = (client: pg.PoolClient) => applyNextMigration(client, schema, identifier, migrations);
  while (await inTransaction(pool, applyNext)) {
    // keep going until nothing is pending
  }
}

async function applyNextMigration(
  client: pg.PoolClient,
  schema: string,
  identifier: string,
  migrations: readonly Migration[],
): Promise<boolean> {
  // Replicas starting together queue here; each then re-reads the version, so every migration
  // runs once. The key is per schema so unrelated schemas (tests, tenants) do not wait on each other.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`flotilla.migrate.${schema}`]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${identifier}`);
  await client.query(createLedger);
  const applied = await client.query<{ version: number }>(
    'SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations',
  );
  const next = pendingMigrations(migrations, applied.rows[0]?.version ?? 0)[0];
  if (next === undefined) return false;
  await client.query(next.sql);
  await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
    next.version,
    next.name,
  ]);
  return true;
}
