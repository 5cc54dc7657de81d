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
  {
    version: 2,
    name: 'provisioning',
    sql: `
      -- Revocation is permanent for a device id; the flag lives here so a check is one lookup.
      ALTER TABLE devices ADD COLUMN revoked_at INTEGER;
      CREATE INDEX devices_revoked_idx ON devices (id) WHERE revoked_at IS NOT NULL;
      CREATE TABLE batches (
        id TEXT NOT NULL PRIMARY KEY,
        hardware_model TEXT NOT NULL,
        hardware_revision TEXT NOT NULL,
        claim_limit INTEGER NOT NULL CHECK (claim_limit >= 0),
        claim_uses INTEGER NOT NULL DEFAULT 0 CHECK (claim_uses >= 0),
        claim_expires_at INTEGER NOT NULL,
        claim_certificate_serial TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL
      ) STRICT;
      CREATE TABLE expected_devices (
        serial TEXT NOT NULL PRIMARY KEY,
        batch_id TEXT NOT NULL REFERENCES batches (id),
        claim_code TEXT NOT NULL UNIQUE,
        device_id TEXT REFERENCES devices (id),
        provisioned_at INTEGER,
        CHECK ((device_id IS NULL) = (provisioned_at IS NULL))
      ) STRICT;
      CREATE INDEX expected_devices_batch_idx ON expected_devices (batch_id);
      CREATE UNIQUE INDEX expected_devices_device_key ON expected_devices (device_id);
      CREATE TABLE certificates (
        serial TEXT NOT NULL PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices (id),
        fingerprint256 TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        not_after INTEGER NOT NULL,
        revoked_at INTEGER,
        revocation_reason TEXT,
        CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
      ) STRICT;
      CREATE INDEX certificates_device_idx ON certificates (device_id);
      CREATE INDEX certificates_revoked_idx ON certificates (revoked_at) WHERE revoked_at IS NOT NULL;
      CREATE TABLE device_tokens (
        device_id TEXT NOT NULL PRIMARY KEY REFERENCES devices (id),
        token_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        source TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details) AND json_type(details) = 'object')
      ) STRICT;
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
        hardware_model TEXT NOT NULL,
        version TEXT NOT NULL,
        hardware_revisions TEXT NOT NULL DEFAULT '[]'
          CHECK (json_valid(hardware_revisions) AND json_type(hardware_revisions) = 'array'),
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL CHECK (size >= 0),
        security INTEGER NOT NULL CHECK (security IN (0, 1)),
        min_version TEXT,
        mandatory INTEGER NOT NULL CHECK (mandatory IN (0, 1)),
        notes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (hardware_model, version)
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'deployments',
    sql: `
      CREATE TABLE deployments (
        id TEXT NOT NULL PRIMARY KEY,
        hardware_model TEXT NOT NULL,
        version TEXT NOT NULL,
        target TEXT NOT NULL,
        install_now INTEGER NOT NULL CHECK (install_now IN (0, 1)),
        force INTEGER NOT NULL CHECK (force IN (0, 1)),
        source TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        cancelled_at INTEGER,
        FOREIGN KEY (hardware_model, version) REFERENCES releases (hardware_model, version)
      ) STRICT;
      CREATE TABLE update_executions (
        device_id TEXT NOT NULL REFERENCES devices (id),
        deployment_id TEXT NOT NULL REFERENCES deployments (id),
        state TEXT NOT NULL CHECK (state IN ('offered', 'downloading', 'downloaded', 'installing',
          'rebooting', 'verifying', 'success', 'failed', 'rolled-back', 'cancelled')),
        progress REAL,
        reason TEXT,
        detail TEXT,
        delta INTEGER CHECK (delta IN (0, 1)),
        bytes INTEGER,
        last_seq INTEGER,
        offered_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER,
        PRIMARY KEY (device_id, deployment_id)
      ) STRICT;
      -- One active execution per device: the database refuses a second even under a race.
      CREATE UNIQUE INDEX update_executions_active_key ON update_executions (device_id)
        WHERE finished_at IS NULL;
      CREATE INDEX update_executions_deployment_idx ON update_executions (deployment_id, device_id);
      CREATE TABLE update_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        deployment_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        state TEXT NOT NULL,
        seq INTEGER,
        reason TEXT,
        detail TEXT,
        FOREIGN KEY (device_id, deployment_id) REFERENCES update_executions (device_id, deployment_id)
      ) STRICT;
      CREATE INDEX update_history_device_idx ON update_history (device_id, id);
    `,
  },
  {
    version: 5,
    name: 'release_deltas',
    sql: `
      -- One row per (release, base version): the latest build attempt of that patch.
      CREATE TABLE release_deltas (
        hardware_model TEXT NOT NULL,
        version TEXT NOT NULL,
        base_version TEXT NOT NULL,
        base_sha256 TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ready', 'skipped', 'failed')),
        patch_sha256 TEXT,
        patch_size INTEGER CHECK (patch_size >= 0),
        reason TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (hardware_model, version, base_version),
        FOREIGN KEY (hardware_model, version) REFERENCES releases (hardware_model, version)
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'rollouts',
    sql: `
      -- spec and state are the domain's parsed JSON; status mirrors state.status for queries.
      CREATE TABLE rollouts (
        id TEXT NOT NULL PRIMARY KEY,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX rollouts_status_idx ON rollouts (status, created_at);
      CREATE TABLE rollout_devices (
        rollout_id TEXT NOT NULL REFERENCES rollouts (id),
        device_id TEXT NOT NULL,
        stage_index INTEGER NOT NULL CHECK (stage_index >= 0),
        deployment_id TEXT,
        started_at INTEGER,
        skip_reason TEXT,
        PRIMARY KEY (rollout_id, device_id)
      ) STRICT;
      CREATE INDEX rollout_devices_device_idx ON rollout_devices (device_id);
      CREATE TABLE rollout_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rollout_id TEXT NOT NULL REFERENCES rollouts (id),
        event TEXT NOT NULL
      ) STRICT;
      CREATE INDEX rollout_events_rollout_idx ON rollout_events (rollout_id, id);
    `,
  },
  {
    version: 7,
    name: 'deployment_install_window',
    sql: `
      -- The maintenance window devices of the deployment install in (null: any time).
      ALTER TABLE deployments ADD COLUMN install_window TEXT
        CHECK (install_window IS NULL OR json_valid(install_window));
    `,
  },
  {
    version: 8,
    name: 'alerts',
    sql: `
      CREATE TABLE alerts (
        id TEXT NOT NULL PRIMARY KEY,
        key TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
        subject_kind TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        title TEXT NOT NULL,
        detail TEXT NOT NULL,
        details TEXT NOT NULL CHECK (json_valid(details)),
        opened_at INTEGER NOT NULL,
        last_raised_at INTEGER NOT NULL,
        raise_count INTEGER NOT NULL CHECK (raise_count >= 1),
        acknowledged_at INTEGER,
        acknowledged_by TEXT,
        resolved_at INTEGER,
        resolved_by TEXT
      ) STRICT;
      -- One unresolved alert per key: the de-duplication rule, enforced by the database.
      CREATE UNIQUE INDEX alerts_unresolved_key ON alerts (key) WHERE state <> 'resolved';
      CREATE INDEX alerts_state_idx ON alerts (state, id);
      CREATE INDEX alerts_subject_idx ON alerts (subject_kind, subject_id, id);
      CREATE TABLE alert_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        note TEXT
      ) STRICT;
      CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
    `,
  },
  {
    version: 9,
    name: 'rollout_selection',
    sql: `
      -- When a device was created or last changed an attribute a rollout selector looks at (model,
      -- revision, firmware, tags, region, owner): active rollouts pick up late devices from it.
      ALTER TABLE devices ADD COLUMN attributes_changed_at INTEGER;
      UPDATE devices SET attributes_changed_at = created_at;
      CREATE INDEX devices_attributes_changed_idx ON devices (attributes_changed_at, id);
      -- Devices changed before selected_through were considered; rescanned_at: the last full re-selection.
      ALTER TABLE rollouts ADD COLUMN selected_through INTEGER;
      ALTER TABLE rollouts ADD COLUMN rescanned_at INTEGER;
      UPDATE rollouts SET selected_through = created_at, rescanned_at = created_at;
    `,
  },
  {
    version: 10,
    name: 'telemetry',
    sql: `
      -- One row per batch ever stored: the dedup key of at-least-once delivery.
      CREATE TABLE telemetry_batches (
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        accepted INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        dropped_batches INTEGER,
        dropped_from_seq INTEGER,
        PRIMARY KEY (device_id, seq)
      ) STRICT, WITHOUT ROWID;
      -- Raw tier: one row per window and metric.
      CREATE TABLE telemetry_windows (
        device_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('health', 'app')),
        metric TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        avg REAL NOT NULL,
        count INTEGER NOT NULL,
        last REAL NOT NULL
      ) STRICT;
      CREATE INDEX telemetry_windows_device_idx ON telemetry_windows (device_id, metric, start_ms);
      CREATE INDEX telemetry_windows_start_idx ON telemetry_windows (start_ms);
      CREATE TABLE telemetry_events (
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        type TEXT NOT NULL,
        severity TEXT NOT NULL,
        code TEXT NOT NULL,
        message TEXT
      ) STRICT;
      CREATE INDEX telemetry_events_device_idx ON telemetry_events (device_id, at_ms);
      CREATE INDEX telemetry_events_at_idx ON telemetry_events (at_ms);
      -- Warm tier: mergeable aggregates per scope (device, model, firmware, fleet), hour and day.
      CREATE TABLE telemetry_rollups (
        scope TEXT NOT NULL CHECK (scope IN ('device', 'model', 'firmware', 'fleet')),
        scope_key TEXT NOT NULL,
        resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
        metric TEXT NOT NULL,
        bucket_start_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        sum REAL NOT NULL,
        count INTEGER NOT NULL,
        last REAL NOT NULL,
        last_at_ms INTEGER NOT NULL,
        PRIMARY KEY (scope, scope_key, resolution, metric, bucket_start_ms)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX telemetry_rollups_bucket_idx ON telemetry_rollups (resolution, bucket_start_ms);
      -- The newest value per device and metric (fleet view, alerts).
      CREATE TABLE telemetry_latest (
        device_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        kind TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (device_id, metric)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX telemetry_latest_metric_idx ON telemetry_latest (metric, device_id);
    `,
  },
  {
    version: 11,
    name: 'device_groups',
    sql: `
      -- Saved fleet queries ("dynamic groups"): membership is evaluated when used, never stored.
      CREATE TABLE device_groups (
        name TEXT NOT NULL PRIMARY KEY,
        query TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 12,
    name: 'telemetry_archives',
    sql: `
      -- Cold tier catalog: one Parquet file per UTC day of a raw source (kind '' for events).
      -- Recorded after the file is durable and before the day's hot rows are deleted.
      CREATE TABLE telemetry_archives (
        source_table TEXT NOT NULL CHECK (source_table IN ('windows', 'events')),
        kind TEXT NOT NULL CHECK (kind IN ('health', 'app', '')),
        day_start_ms INTEGER NOT NULL,
        path TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (source_table, kind, day_start_ms)
      ) STRICT, WITHOUT ROWID;
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
        name TEXT NOT NULL PRIMARY KEY,
        definition TEXT NOT NULL CHECK (json_valid(definition)),
        origin TEXT NOT NULL CHECK (origin IN ('default', 'user')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      -- Default rules seeded once: a seeded rule the operator deleted is not brought back.
      CREATE TABLE alert_rule_seeds (
        name TEXT NOT NULL PRIMARY KEY,
        seeded_at INTEGER NOT NULL
      ) STRICT;
      -- Pending and firing subjects per rule, so a restart neither resets nor loses a duration.
      CREATE TABLE alert_rule_state (
        rule TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        since_ms INTEGER NOT NULL,
        streak INTEGER NOT NULL,
        firing TEXT CHECK (firing IN ('info', 'warning', 'critical')),
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (rule, subject_kind, subject_id)
      ) STRICT, WITHOUT ROWID;
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
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL,
        step TEXT NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('opened', 'escalated', 'resolved', 'digest')),
        due_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'grouped', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        admitted_at INTEGER,
        next_attempt_at INTEGER,
        last_error TEXT,
        sent_at INTEGER,
        digest_id TEXT
      ) STRICT;
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
      -- tags = reported_tags overlaid with operator_tags: what the device reports and what
      -- operators set (group operations); an operator's key wins, a report replaces only its own.
      ALTER TABLE devices ADD COLUMN reported_tags TEXT NOT NULL DEFAULT '{}'
        CHECK (json_valid(reported_tags) AND json_type(reported_tags) = 'object');
      ALTER TABLE devices ADD COLUMN operator_tags TEXT NOT NULL DEFAULT '{}'
        CHECK (json_valid(operator_tags) AND json_type(operator_tags) = 'object');
      UPDATE devices SET reported_tags = tags;
      -- offline_for: only offline devices, by the time they count as offline from.
      CREATE INDEX devices_offline_since_idx ON devices (coalesce(last_seen_at, connection_changed_at, created_at))
        WHERE connection_state = 'offline';
    `,
  },
  {
    version: 16,
    name: 'audit_append_only',
    sql: `
      -- The audit log is append-only: updates and deletes are refused (DROP/recreate aside).
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END;
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
        name TEXT NOT NULL PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        disabled_at INTEGER
      ) STRICT;
      -- Only the SHA-256 of a session secret is kept.
      CREATE TABLE sessions (
        id_hash TEXT NOT NULL PRIMARY KEY,
        user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX sessions_user_idx ON sessions (user_name);
      -- API tokens: only the SHA-256 of the secret; the id is public.
      CREATE TABLE api_tokens (
        id TEXT NOT NULL PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        owner TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_used_at INTEGER,
        UNIQUE (owner, name)
      ) STRICT;
      -- A role granted to a user or a token, on every device (scope NULL) or a fleet query.
      CREATE TABLE role_bindings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_name TEXT REFERENCES users (name) ON DELETE CASCADE,
        token_id TEXT REFERENCES api_tokens (id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        scope TEXT,
        CHECK ((user_name IS NULL) <> (token_id IS NULL))
      ) STRICT;
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
        id TEXT NOT NULL PRIMARY KEY,
        spec TEXT NOT NULL CHECK (json_valid(spec)),
        operation TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('scheduled', 'in-progress', 'completed', 'aborted', 'cancelled')),
        reason TEXT,
        created_by TEXT NOT NULL,
        device_count INTEGER NOT NULL CHECK (device_count >= 0),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
      ) STRICT;
      CREATE INDEX jobs_state_idx ON jobs (state, id);
      CREATE TABLE job_executions (
        id TEXT NOT NULL PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id),
        device_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'in-progress', 'succeeded', 'failed', 'timed-out', 'cancelled')),
        attempt INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
        code TEXT,
        message TEXT,
        result TEXT CHECK (result IS NULL OR json_valid(result)),
        sent_at INTEGER,
        deadline INTEGER,
        not_before INTEGER,
        log_file TEXT,
        log_bytes INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER,
        UNIQUE (job_id, device_id)
      ) STRICT;
      -- A device's pending executions (reconnects); a job's executions by state (ticks, counts).
      CREATE INDEX job_executions_device_state_idx ON job_executions (device_id, state);
      CREATE INDEX job_executions_job_state_idx ON job_executions (job_id, state, device_id);
      CREATE INDEX job_executions_job_sent_idx ON job_executions (job_id, sent_at);
      CREATE TABLE device_capabilities (
        device_id TEXT NOT NULL PRIMARY KEY,
        capabilities TEXT NOT NULL CHECK (json_valid(capabilities)),
        updated_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 19,
    name: 'device_config',
    sql: `
      -- Per device: its own desired document, the effective document last sent, what it reported
      -- and the schema it declared (docs/device-config.md). JSON texts.
      CREATE TABLE device_config (
        device_id TEXT NOT NULL PRIMARY KEY,
        desired TEXT NOT NULL DEFAULT '{}',
        desired_version INTEGER NOT NULL DEFAULT 0,
        desired_at INTEGER,
        sent TEXT NOT NULL DEFAULT '{}',
        sent_version INTEGER NOT NULL DEFAULT 0,
        sent_at INTEGER,
        reported TEXT,
        reported_at INTEGER,
        config_schema TEXT,
        schema_at INTEGER
      ) STRICT;
      -- Defaults: one fleet-wide document (scope fleet, name '') and one per group.
      CREATE TABLE config_defaults (
        scope TEXT NOT NULL CHECK (scope IN ('fleet', 'group')),
        name TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        doc TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
      ) STRICT;
    `,
  },
  {
    version: 20,
    name: 'dashboard_snapshots',
    sql: `
      -- Whole-fleet numbers every dashboard.snapshotIntervalS, for the dashboard's trends
      -- (docs/dashboard.md); rows older than dashboard.snapshotRetentionDays are deleted.
      CREATE TABLE dashboard_snapshots (
        at_ms INTEGER NOT NULL PRIMARY KEY,
        total INTEGER NOT NULL,
        online INTEGER NOT NULL,
        with_release INTEGER NOT NULL,
        on_current_release INTEGER NOT NULL,
        open_alerts INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 21,
    name: 'device_sort_indexes',
    sql: `
      -- Sorted device lists page on (key, id) (store/device-sort.ts); model, firmware and state
      -- already have (column, id) indexes from migration 1.
      CREATE INDEX devices_last_seen_idx ON devices (last_seen_at, id);
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
