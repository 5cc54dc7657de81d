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
  {
    version: 7,
    name: 'deployment_install_window',
    sql: `
      -- The maintenance window devices of the deployment install in (null: any time).
      ALTER TABLE deployments ADD COLUMN install_window jsonb;
    `,
  },
  {
    version: 8,
    name: 'alerts',
    sql: `
      CREATE TABLE alerts (
        id text NOT NULL PRIMARY KEY,
        key text NOT NULL,
        rule text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        state text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
        subject_kind text NOT NULL,
        subject_id text NOT NULL,
        title text NOT NULL,
        detail text NOT NULL,
        details jsonb NOT NULL,
        opened_at bigint NOT NULL,
        last_raised_at bigint NOT NULL,
        raise_count bigint NOT NULL CHECK (raise_count >= 1),
        acknowledged_at bigint,
        acknowledged_by text,
        resolved_at bigint,
        resolved_by text
      );
      -- One unresolved alert per key: the de-duplication rule, enforced by the database.
      CREATE UNIQUE INDEX alerts_unresolved_key ON alerts (key) WHERE state <> 'resolved';
      CREATE INDEX alerts_state_idx ON alerts (state, id);
      CREATE INDEX alerts_subject_idx ON alerts (subject_kind, subject_id, id);
      CREATE TABLE alert_events (
        id bigserial PRIMARY KEY,
        alert_id text NOT NULL REFERENCES alerts (id),
        at bigint NOT NULL,
        kind text NOT NULL,
        actor text NOT NULL,
        note text
      );
      CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
    `,
  },
  {
    version: 9,
    name: 'rollout_selection',
    sql: `
      -- When a device was created or last changed an attribute a rollout selector looks at (model,
      -- revision, firmware, tags, region, owner): active rollouts pick up late devices from it.
      ALTER TABLE devices ADD COLUMN attributes_changed_at timestamptz;
      UPDATE devices SET attributes_changed_at = created_at;
      ALTER TABLE devices ALTER COLUMN attributes_changed_at SET NOT NULL;
      CREATE INDEX devices_attributes_changed_idx ON devices (attributes_changed_at, id);
      -- Devices changed before selected_through were considered; rescanned_at: the last full re-selection.
      ALTER TABLE rollouts ADD COLUMN selected_through bigint;
      ALTER TABLE rollouts ADD COLUMN rescanned_at bigint;
      UPDATE rollouts SET selected_through = created_at, rescanned_at = created_at;
      ALTER TABLE rollouts ALTER COLUMN selected_through SET NOT NULL;
      ALTER TABLE rollouts ALTER COLUMN rescanned_at SET NOT NULL;
    `,
  },
  {
    version: 10,
    name: 'telemetry',
    sql: `
      -- Telemetry times are bigint ms since the epoch (as sent by devices): no conversion on the
      -- hot path, and the day partitions' bounds are plain integers.
      CREATE TABLE telemetry_batches (
        device_id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        received_at bigint NOT NULL,
        accepted integer NOT NULL,
        rejected integer NOT NULL,
        dropped_batches integer,
        dropped_from_seq bigint,
        PRIMARY KEY (device_id, seq)
      );
      -- Raw tier, partitioned by UTC day of start_ms; partitions are created on demand before
      -- inserts (postgres-telemetry-partitions.ts) and can be detached whole when they expire.
      CREATE TABLE telemetry_windows (
        device_id text COLLATE "C" NOT NULL,
        kind text NOT NULL CHECK (kind IN ('health', 'app')),
        metric text COLLATE "C" NOT NULL,
        start_ms bigint NOT NULL,
        end_ms bigint NOT NULL,
        min double precision NOT NULL,
        max double precision NOT NULL,
        avg double precision NOT NULL,
        count bigint NOT NULL,
        last double precision NOT NULL
      ) PARTITION BY RANGE (start_ms);
      CREATE INDEX telemetry_windows_device_idx ON telemetry_windows (device_id, metric, start_ms);
      CREATE TABLE telemetry_events (
        device_id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        at_ms bigint NOT NULL,
        type text NOT NULL,
        severity text NOT NULL,
        code text NOT NULL,
        message text
      ) PARTITION BY RANGE (at_ms);
      CREATE INDEX telemetry_events_device_idx ON telemetry_events (device_id, at_ms);
      CREATE TABLE telemetry_rollups (
        scope text NOT NULL CHECK (scope IN ('device', 'model', 'firmware', 'fleet')),
        scope_key text COLLATE "C" NOT NULL,
        resolution text NOT NULL CHECK (resolution IN ('hour', 'day')),
        metric text COLLATE "C" NOT NULL,
        bucket_start_ms bigint NOT NULL,
        kind text NOT NULL,
        min double precision NOT NULL,
        max double precision NOT NULL,
        sum double precision NOT NULL,
        count bigint NOT NULL,
        last double precision NOT NULL,
        last_at_ms bigint NOT NULL,
        PRIMARY KEY (scope, scope_key, resolution, metric, bucket_start_ms)
      );
      CREATE INDEX telemetry_rollups_bucket_idx ON telemetry_rollups (resolution, bucket_start_ms);
      CREATE TABLE telemetry_latest (
        device_id text COLLATE "C" NOT NULL,
        metric text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        at_ms bigint NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (device_id, metric)
      );
      CREATE INDEX telemetry_latest_metric_idx ON telemetry_latest (metric, device_id);
    `,
  },
  {
    version: 11,
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
  {
    version: 12,
    name: 'telemetry_archives',
    sql: `
      -- Cold tier catalog: one Parquet file per UTC day of a raw source (kind '' for events).
      -- Recorded after the file is durable and before the day's hot rows are deleted.
      CREATE TABLE telemetry_archives (
        source_table text NOT NULL CHECK (source_table IN ('windows', 'events')),
        kind text NOT NULL CHECK (kind IN ('health', 'app', '')),
        day_start_ms bigint NOT NULL,
        path text NOT NULL,
        row_count bigint NOT NULL,
        bytes bigint NOT NULL,
        sha256 text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (source_table, kind, day_start_ms)
      );
      CREATE INDEX telemetry_archives_day_idx ON telemetry_archives (day_start_ms);
      -- The retention job deletes dedup rows by age.
      CREATE INDEX telemetry_batches_received_idx ON telemetry_batches (received_at);
    `,
  },
  {
    version: 13,
    name: 'alert_rules',
    sql: `
      -- Alert rules (docs/alerts.md): the definition is the rule's JSON (alerts/rules/alert-rule.ts).
      CREATE TABLE alert_rules (
        name text COLLATE "C" NOT NULL PRIMARY KEY,
        definition jsonb NOT NULL,
        origin text NOT NULL CHECK (origin IN ('default', 'user')),
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      -- Default rules seeded once: a seeded rule the operator deleted is not brought back.
      CREATE TABLE alert_rule_seeds (
        name text COLLATE "C" NOT NULL PRIMARY KEY,
        seeded_at bigint NOT NULL
      );
      -- Pending and firing subjects per rule, so a restart neither resets nor loses a duration.
      CREATE TABLE alert_rule_state (
        rule text COLLATE "C" NOT NULL,
        subject_kind text NOT NULL,
        subject_id text COLLATE "C" NOT NULL,
        since_ms bigint NOT NULL,
        streak integer NOT NULL,
        firing text CHECK (firing IN ('info', 'warning', 'critical')),
        updated_at bigint NOT NULL,
        PRIMARY KEY (rule, subject_kind, subject_id)
      );
    `,
  },
  {
    version: 14,
    name: 'alert_notifications',
    sql: `
      -- The escalation ledger (docs/alerts.md): one row per alert, chain step, channel and kind,
      -- so a restart neither resends nor loses a step. No foreign key: a digest row's alert_id is
      -- the digest's own id; grouped rows point at their digest with digest_id.
      CREATE TABLE alert_notifications (
        id bigserial PRIMARY KEY,
        alert_id text NOT NULL,
        step text NOT NULL,
        channel text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('opened', 'escalated', 'resolved', 'digest')),
        due_at bigint NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'grouped', 'cancelled')),
        attempts bigint NOT NULL DEFAULT 0,
        admitted_at bigint,
        next_attempt_at bigint,
        last_error text,
        sent_at bigint,
        digest_id text
      );
      CREATE UNIQUE INDEX alert_notifications_key ON alert_notifications (alert_id, step, channel, kind);
      CREATE INDEX alert_notifications_due_idx ON alert_notifications (channel, state, due_at);
      CREATE INDEX alert_notifications_admitted_idx ON alert_notifications (channel, admitted_at);
      CREATE INDEX alert_notifications_digest_idx ON alert_notifications (digest_id);
      -- Resolved notifications look at alerts resolved recently.
      CREATE INDEX alerts_resolved_at_idx ON alerts (resolved_at);
    `,
  },
  {
    version: 15,
    name: 'operator_tags',
    sql: `
      -- tags = reported_tags || operator_tags: what the device reports and what operators set
      -- (group operations); an operator's key wins, a report replaces only its own.
      ALTER TABLE devices
        ADD COLUMN reported_tags jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(reported_tags) = 'object'),
        ADD COLUMN operator_tags jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(operator_tags) = 'object');
      UPDATE devices SET reported_tags = tags;
      -- The firmware version's sort key, stored: fleet queries compare it without calling the
      -- (regex-heavy) function per row when another index narrowed the rows first.
      ALTER TABLE devices ADD COLUMN firmware_key text COLLATE "C"
        GENERATED ALWAYS AS (flotilla_version_key(firmware_version)) STORED;
      CREATE INDEX devices_firmware_key_column_idx ON devices (firmware_key, id);
      DROP INDEX devices_firmware_key_idx;
      -- offline_for: only offline devices, by the time they count as offline from.
      CREATE INDEX devices_offline_since_idx ON devices ((coalesce(last_seen_at, connection_changed_at, created_at)))
        WHERE connection_state = 'offline';
    `,
  },
  {
    version: 16,
    name: 'audit_append_only',
    sql: `
      -- The audit log is append-only: row updates and deletes are refused. TRUNCATE (an
      -- administrator's explicit act, and how test suites reset) is not a row operation.
      CREATE FUNCTION flotilla_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
      END;
      $$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION flotilla_audit_log_append_only();
      -- Filters by actor and source, each in the newest-first order.
      CREATE INDEX audit_log_actor_idx ON audit_log (actor, at, id);
      CREATE INDEX audit_log_source_idx ON audit_log (source, at, id);
    `,
  },
  {
    version: 17,
    name: 'access_control',
    sql: `
      -- Management API users (docs/access-control.md). password_hash is a self-describing scrypt string.
      CREATE TABLE users (
        name text NOT NULL PRIMARY KEY,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        disabled_at timestamptz
      );
      -- Only the SHA-256 of a session secret is kept.
      CREATE TABLE sessions (
        id_hash text NOT NULL PRIMARY KEY,
        user_name text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE INDEX sessions_user_idx ON sessions (user_name);
      -- API tokens: only the SHA-256 of the secret; the id is public.
      CREATE TABLE api_tokens (
        id text NOT NULL PRIMARY KEY,
        secret_hash text NOT NULL UNIQUE,
        name text NOT NULL,
        owner text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        last_used_at timestamptz,
        UNIQUE (owner, name)
      );
      -- A role granted to a user or a token, on every device (scope NULL) or a fleet query.
      CREATE TABLE role_bindings (
        id bigserial PRIMARY KEY,
        user_name text REFERENCES users (name) ON DELETE CASCADE,
        token_id text REFERENCES api_tokens (id) ON DELETE CASCADE,
        role text NOT NULL,
        scope text,
        CHECK ((user_name IS NULL) <> (token_id IS NULL))
      );
      CREATE INDEX role_bindings_user_idx ON role_bindings (user_name);
      CREATE INDEX role_bindings_token_idx ON role_bindings (token_id);
    `,
  },
  {
    version: 18,
    name: 'jobs',
    sql: `
      -- spec is the parsed job spec (jobs/job-spec.ts); operation mirrors it for queries.
      CREATE TABLE jobs (
        id text NOT NULL PRIMARY KEY,
        spec jsonb NOT NULL,
        operation text NOT NULL,
        state text NOT NULL CHECK (state IN ('scheduled', 'in-progress', 'completed', 'aborted', 'cancelled')),
        reason text,
        created_by text NOT NULL,
        device_count integer NOT NULL CHECK (device_count >= 0),
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        started_at bigint,
        finished_at bigint
      );
      CREATE INDEX jobs_state_idx ON jobs (state, id);
      CREATE TABLE job_executions (
        id text NOT NULL PRIMARY KEY,
        job_id text NOT NULL REFERENCES jobs (id),
        device_id text NOT NULL,
        state text NOT NULL CHECK (state IN ('queued', 'sent', 'in-progress', 'succeeded', 'failed', 'timed-out', 'cancelled')),
        attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
        code text,
        message text,
        result jsonb,
        sent_at bigint,
        deadline bigint,
        not_before bigint,
        log_file text,
        log_bytes bigint,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        finished_at bigint,
        UNIQUE (job_id, device_id)
      );
      -- A device's pending executions (reconnects); a job's executions by state (ticks, counts).
      CREATE INDEX job_executions_device_state_idx ON job_executions (device_id, state);
      CREATE INDEX job_executions_job_state_idx ON job_executions (job_id, state, device_id);
      CREATE INDEX job_executions_job_sent_idx ON job_executions (job_id, sent_at);
      CREATE TABLE device_capabilities (
        device_id text NOT NULL PRIMARY KEY,
        capabilities jsonb NOT NULL,
        updated_at bigint NOT NULL
      );
    `,
  },
  {
    version: 19,
    name: 'device_config',
    sql: `
      -- Per device: its own desired document, the effective document last sent, what it reported
      -- and the schema it declared (docs/device-config.md).
      CREATE TABLE device_config (
        device_id text NOT NULL PRIMARY KEY,
        desired jsonb NOT NULL DEFAULT '{}',
        desired_version bigint NOT NULL DEFAULT 0,
        desired_at bigint,
        sent jsonb NOT NULL DEFAULT '{}',
        sent_version bigint NOT NULL DEFAULT 0,
        sent_at bigint,
        reported jsonb,
        reported_at bigint,
        config_schema jsonb,
        schema_at bigint
      );
      -- Defaults: one fleet-wide document (scope fleet, name '') and one per group.
      CREATE TABLE config_defaults (
        scope text NOT NULL CHECK (scope IN ('fleet', 'group')),
        name text NOT NULL,
        priority integer NOT NULL DEFAULT 0,
        doc jsonb NOT NULL,
        version bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (scope, name)
      );
    `,
  },
  {
    version: 20,
    name: 'dashboard_snapshots',
    sql: `
      -- Whole-fleet numbers every dashboard.snapshotIntervalS, for the dashboard's trends
      -- (docs/dashboard.md); rows older than dashboard.snapshotRetentionDays are deleted.
      CREATE TABLE dashboard_snapshots (
        at_ms bigint NOT NULL PRIMARY KEY,
        total integer NOT NULL,
        online integer NOT NULL,
        with_release integer NOT NULL,
        on_current_release integer NOT NULL,
        open_alerts integer NOT NULL
      );
    `,
  },
  {
    version: 21,
    name: 'device_sort_indexes',
    sql: `
      -- Sorted device lists page on (key, id) in byte order, as SQLite compares text
      -- (store/device-sort.ts): the indexes of migration 1 use the database's collation.
      CREATE INDEX devices_last_seen_idx ON devices (last_seen_at, id);
      CREATE INDEX devices_model_sort_idx ON devices ((hardware_model COLLATE "C"), id);
      CREATE INDEX devices_firmware_sort_idx ON devices ((firmware_version COLLATE "C"), id);
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
