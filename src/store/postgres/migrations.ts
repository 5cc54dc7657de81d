/**
 * PostgreSQL schema migrations. Tables are created unqualified: every connection's search_path
 * is the configured schema (pg-pool.ts). Append new migrations at the end; never edit one that
 * has shipped.
 */
import type pg from 'pg';
import { pendingMigrations, reservedMigration, type Migration } from '../migration-plan.ts';
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
  {
    version: 2,
    name: 'provisioning',
    sql: `
      -- Revocation is permanent for a device id; the flag lives here so a check is one lookup.
      ALTER TABLE devices ADD COLUMN revoked_at timestamptz;
      CREATE INDEX devices_revoked_idx ON devices (id) WHERE revoked_at IS NOT NULL;
      CREATE TABLE batches (
        id text COLLATE "C" NOT NULL CONSTRAINT batches_pkey PRIMARY KEY,
        hardware_model text NOT NULL,
        hardware_revision text NOT NULL,
        claim_limit integer NOT NULL CHECK (claim_limit >= 0),
        claim_uses integer NOT NULL DEFAULT 0 CHECK (claim_uses >= 0),
        claim_expires_at timestamptz NOT NULL,
        claim_certificate_serial text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL
      );
      CREATE TABLE expected_devices (
        serial text COLLATE "C" NOT NULL CONSTRAINT expected_devices_pkey PRIMARY KEY,
        batch_id text COLLATE "C" NOT NULL REFERENCES batches (id),
        claim_code text NOT NULL CONSTRAINT expected_devices_claim_code_key UNIQUE,
        device_id text COLLATE "C" REFERENCES devices (id),
        provisioned_at timestamptz,
        CHECK ((device_id IS NULL) = (provisioned_at IS NULL))
      );
      CREATE INDEX expected_devices_batch_idx ON expected_devices (batch_id);
      CREATE UNIQUE INDEX expected_devices_device_key ON expected_devices (device_id);
      CREATE TABLE certificates (
        serial text COLLATE "C" NOT NULL CONSTRAINT certificates_pkey PRIMARY KEY,
        device_id text COLLATE "C" NOT NULL REFERENCES devices (id),
        fingerprint256 text NOT NULL,
        issued_at timestamptz NOT NULL,
        not_after timestamptz NOT NULL,
        revoked_at timestamptz,
        revocation_reason text,
        CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
      );
      CREATE INDEX certificates_device_idx ON certificates (device_id);
      CREATE INDEX certificates_revoked_idx ON certificates (revoked_at) WHERE revoked_at IS NOT NULL;
      CREATE TABLE device_tokens (
        device_id text COLLATE "C" NOT NULL CONSTRAINT device_tokens_pkey PRIMARY KEY REFERENCES devices (id),
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE TABLE audit_log (
        id bigserial NOT NULL CONSTRAINT audit_log_pkey PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        source text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object')
      );
      -- Each serves its filter and the newest-first order.
      CREATE INDEX audit_log_target_idx ON audit_log (target, at, id);
      CREATE INDEX audit_log_action_idx ON audit_log (action, at, id);
      CREATE INDEX audit_log_at_idx ON audit_log (at, id);
    `,
  },
  {
    version: 3,
    name: 'releases',
    sql: `
      -- Ordered by semver precedence in TypeScript (release-rules.ts): few releases per model.
      CREATE TABLE releases (
        hardware_model text COLLATE "C" NOT NULL,
        version text COLLATE "C" NOT NULL,
        hardware_revisions jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(hardware_revisions) = 'array'),
        sha256 text NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        security boolean NOT NULL,
        min_version text,
        mandatory boolean NOT NULL,
        notes text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        CONSTRAINT releases_pkey PRIMARY KEY (hardware_model, version)
      );
    `,
  },
  {
    version: 4,
    name: 'deployments',
    sql: `
      CREATE TABLE deployments (
        id text COLLATE "C" NOT NULL CONSTRAINT deployments_pkey PRIMARY KEY,
        hardware_model text COLLATE "C" NOT NULL,
        version text COLLATE "C" NOT NULL,
        target text NOT NULL,
        install_now boolean NOT NULL,
        force boolean NOT NULL,
        source text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        cancelled_at timestamptz,
        FOREIGN KEY (hardware_model, version) REFERENCES releases (hardware_model, version)
      );
      CREATE TABLE update_executions (
        device_id text COLLATE "C" NOT NULL REFERENCES devices (id),
        deployment_id text COLLATE "C" NOT NULL REFERENCES deployments (id),
        state text NOT NULL CHECK (state IN ('offered', 'downloading', 'downloaded', 'installing',
          'rebooting', 'verifying', 'success', 'failed', 'rolled-back', 'cancelled')),
        progress double precision,
        reason text,
        detail text,
        delta boolean,
        bytes bigint,
        last_seq bigint,
        offered_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        finished_at timestamptz,
        CONSTRAINT update_executions_pkey PRIMARY KEY (device_id, deployment_id)
      );
      -- One active execution per device: the database refuses a second even under a race.
      CREATE UNIQUE INDEX update_executions_active_key ON update_executions (device_id)
        WHERE finished_at IS NULL;
      CREATE INDEX update_executions_deployment_idx ON update_executions (deployment_id, device_id);
      CREATE TABLE update_history (
        id bigserial NOT NULL CONSTRAINT update_history_pkey PRIMARY KEY,
        device_id text COLLATE "C" NOT NULL,
        deployment_id text COLLATE "C" NOT NULL,
        at timestamptz NOT NULL,
        state text NOT NULL,
        seq bigint,
        reason text,
        detail text,
        FOREIGN KEY (device_id, deployment_id) REFERENCES update_executions (device_id, deployment_id)
      );
      CREATE INDEX update_history_device_idx ON update_history (device_id, id);
    `,
  },
  {
    version: 5,
    name: 'release_deltas',
    sql: `
      -- One row per (release, base version): the latest build attempt of that patch.
      CREATE TABLE release_deltas (
        hardware_model text NOT NULL,
        version text NOT NULL,
        base_version text NOT NULL,
        base_sha256 text NOT NULL,
        status text NOT NULL CHECK (status IN ('ready', 'skipped', 'failed')),
        patch_sha256 text,
        patch_size bigint CHECK (patch_size >= 0),
        reason text,
        created_at timestamptz NOT NULL,
        CONSTRAINT release_deltas_pkey PRIMARY KEY (hardware_model, version, base_version),
        CONSTRAINT release_deltas_release_fkey FOREIGN KEY (hardware_model, version)
          REFERENCES releases (hardware_model, version)
      );
    `,
  },
  {
    version: 6,
    name: 'rollouts',
    sql: `
      -- spec and state are the domain's parsed JSON; status mirrors state.status for queries.
      CREATE TABLE rollouts (
        id text NOT NULL PRIMARY KEY,
        spec jsonb NOT NULL,
        state jsonb NOT NULL,
        status text NOT NULL,
        version bigint NOT NULL CHECK (version >= 1),
        created_by text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE INDEX rollouts_status_idx ON rollouts (status, created_at);
      CREATE TABLE rollout_devices (
        rollout_id text NOT NULL REFERENCES rollouts (id),
        device_id text NOT NULL,
        stage_index integer NOT NULL CHECK (stage_index >= 0),
        deployment_id text,
        started_at bigint,
        skip_reason text,
        PRIMARY KEY (rollout_id, device_id)
      );
      CREATE INDEX rollout_devices_device_idx ON rollout_devices (device_id);
      CREATE TABLE rollout_events (
        id bigserial PRIMARY KEY,
        rollout_id text NOT NULL REFERENCES rollouts (id),
        event jsonb NOT NULL
      );
      CREATE INDEX rollout_events_rollout_idx ON rollout_events (rollout_id, id);
    `,
  },
  // 7–9 are taken by branches developed at the same time; these placeholders keep the versions
  // gapless here and are replaced by those migrations when the branches merge.
  reservedMigration(7),
  reservedMigration(8),
  reservedMigration(9),
  {
    version: 10,
    name: 'fleet_query',
    sql: `
      -- The semver sort key of fleet-query/semver.ts, computed the same way (test/fleet-query
      -- checks that they agree): fleet queries compare firmware versions with it in the "C"
      -- collation. NULL for text that is not a semantic version.
      CREATE FUNCTION flotilla_version_key(version text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $fn$
        SELECT CASE WHEN m IS NULL THEN NULL ELSE
          lpad(length(m[1])::text, 2, '0') || m[1] ||
          lpad(length(m[2])::text, 2, '0') || m[2] ||
          lpad(length(m[3])::text, 2, '0') || m[3] ||
          CASE WHEN m[4] IS NULL THEN '~' ELSE '-' || (
            SELECT string_agg(
              CASE WHEN id ~ '^[0-9]+$' THEN '0' || lpad(length(id)::text, 2, '0') || id ELSE '1' || id END,
              '!' ORDER BY n)
            FROM regexp_split_to_table(m[4], '[.]') WITH ORDINALITY AS part(id, n)
          ) END
        END
        FROM regexp_match(version,
          '^(0|[1-9][0-9]{0,98})[.](0|[1-9][0-9]{0,98})[.](0|[1-9][0-9]{0,98})'
          '(?:-((?:0|[1-9][0-9]{0,98}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)'
          '(?:[.](?:0|[1-9][0-9]{0,98}|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?'
          '(?:[+][0-9A-Za-z-]+(?:[.][0-9A-Za-z-]+)*)?$') AS r(m)
      $fn$;
      CREATE INDEX devices_firmware_key_idx ON devices ((flotilla_version_key(firmware_version)) COLLATE "C", id);
      -- Saved fleet queries ("dynamic groups"): membership is evaluated when used, never stored.
      CREATE TABLE device_groups (
        name text NOT NULL PRIMARY KEY,
        query text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
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
