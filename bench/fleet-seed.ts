/**
 * Bench set-up for the fleet benchmarks: N registered devices with latest telemetry (battery,
 * signal, errors) written by one SQL statement per table (a recursive CTE in SQLite,
 * generate_series in PostgreSQL), so a million devices take seconds of set-up and measure
 * nothing of interest. The fleet has the shape the queries look at:
 * - models: 95 % bench-tracker, 5 % bench-gateway; firmware 2.3.0 / 2.4.0 / 2.4.1 / 2.5.0 in turn;
 * - regions: eu-west, eu-north, us-east, ap-south in turn (by i / 4, so independent of firmware);
 * - tags: every tenth device in ring beta, the rest stable;
 * - online 96 %; the offline ones went offline 0–95 h before `nowMs`;
 * - battery (i × 37) mod 100 %, signal −50 − (i × 13) mod 60 dBm;
 * - an hourly `errors` rollup per device for the current hour: 12 samples, i mod 3 errors.
 */
import pg from 'pg';
import { openStores, type Stores } from '../src/store/open-store.ts';
import { openSqliteDatabase } from '../src/store/sqlite/open-sqlite-database.ts';

const HOUR = 3_600_000;

export interface SeededFleet {
  stores: Stores;
  /** Set-up time (ms), not a measurement. */
  seedMs: number;
  /** Runs raw SQL on the same database (the hand-written baselines); returns the first cell. */
  scalar(sql: string): Promise<number>;
  close(): Promise<void>;
}

const sqliteDevices = `
  WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < @n - 1)
  INSERT INTO devices (id, serial, hardware_model, hardware_revision, firmware_version, tags, reported_tags,
    region, created_at, attributes_changed_at, connection_state, connection_changed_at, last_seen_at)
  SELECT printf('dev-%07d', i), printf('SN-%07d', i),
    CASE WHEN i % 20 = 19 THEN 'bench-gateway' ELSE 'bench-tracker' END, 'A',
    CASE i % 4 WHEN 0 THEN '2.3.0' WHEN 1 THEN '2.4.0' WHEN 2 THEN '2.4.1' ELSE '2.5.0' END,
    CASE WHEN i % 10 = 0 THEN '{"ring":"beta"}' ELSE '{"ring":"stable"}' END,
    CASE WHEN i % 10 = 0 THEN '{"ring":"beta"}' ELSE '{"ring":"stable"}' END,
    CASE (i / 4) % 4 WHEN 0 THEN 'eu-west' WHEN 1 THEN 'eu-north' WHEN 2 THEN 'us-east' ELSE 'ap-south' END,
    @registered, @registered,
    CASE WHEN i % 25 = 0 THEN 'offline' ELSE 'online' END,
    CASE WHEN i % 25 = 0 THEN @now - (i % 96) * ${HOUR} ELSE @registered END,
    CASE WHEN i % 25 = 0 THEN @now - (i % 96) * ${HOUR} ELSE @now END
  FROM s`;

const sqliteLatest = `
  INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value)
  SELECT id, m.metric, 'health', @now,
    CASE m.metric WHEN 'battery_pct' THEN (CAST(substr(id, 5) AS INTEGER) * 37) % 100
      WHEN 'signal_dbm' THEN -50 - (CAST(substr(id, 5) AS INTEGER) * 13) % 60
      ELSE CAST(substr(id, 5) AS INTEGER) % 3 END
  FROM devices, (SELECT 'battery_pct' AS metric UNION ALL SELECT 'signal_dbm' UNION ALL SELECT 'errors') AS m`;

const sqliteRollups = `
  INSERT INTO telemetry_rollups (scope, scope_key, resolution, metric, bucket_start_ms, kind, min, max, sum, count,
    last, last_at_ms)
  SELECT 'device', id, 'hour', 'errors', @hour, 'health', 0, 2, CAST(substr(id, 5) AS INTEGER) % 3, 12, 0, @now
  FROM devices`;

export async function seedSqliteFleet(file: string, devices: number, nowMs: number): Promise<SeededFleet> {
  const stores = await openStores({ kind: 'sqlite', file }); // creates and migrates the file
  const db = openSqliteDatabase(file);
  const started = performance.now();
  const params = { n: devices, now: nowMs, registered: nowMs - 30 * 24 * HOUR };
  db.transaction(() => {
    db.prepare(sqliteDevices).run(params);
    db.prepare(sqliteLatest).run({ now: nowMs });
    db.prepare(sqliteRollups).run({ now: nowMs, hour: Math.floor(nowMs / HOUR) * HOUR });
  })();
  db.exec('ANALYZE');
  const seedMs = performance.now() - started;
  return {
    stores,
    seedMs,
    scalar: (sql) => {
      const row = db.prepare(sql).raw().get() as unknown[] | undefined;
      return Promise.resolve(Number(row?.[0] ?? 0));
    },
    async close() {
      db.close();
      await stores.close();
    },
  };
}

const pgDevices = `
  INSERT INTO devices (id, serial, hardware_model, hardware_revision, firmware_version, tags, reported_tags,
    region, created_at, attributes_changed_at, connection_state, connection_changed_at, last_seen_at)
  SELECT 'dev-' || lpad(i::text, 7, '0'), 'SN-' || lpad(i::text, 7, '0'),
    CASE WHEN i % 20 = 19 THEN 'bench-gateway' ELSE 'bench-tracker' END, 'A',
    (ARRAY['2.3.0', '2.4.0', '2.4.1', '2.5.0'])[i % 4 + 1],
    CASE WHEN i % 10 = 0 THEN '{"ring":"beta"}' ELSE '{"ring":"stable"}' END::jsonb,
    CASE WHEN i % 10 = 0 THEN '{"ring":"beta"}' ELSE '{"ring":"stable"}' END::jsonb,
    (ARRAY['eu-west', 'eu-north', 'us-east', 'ap-south'])[(i / 4) % 4 + 1],
    $2::timestamptz, $2::timestamptz,
    CASE WHEN i % 25 = 0 THEN 'offline' ELSE 'online' END,
    CASE WHEN i % 25 = 0 THEN $3::timestamptz - (i % 96) * interval '1 hour' ELSE $2::timestamptz END,
    CASE WHEN i % 25 = 0 THEN $3::timestamptz - (i % 96) * interval '1 hour' ELSE $3::timestamptz END
  FROM generate_series(0, $1::int - 1) AS i`;

const pgLatest = `
  INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value)
  SELECT id, m.metric, 'health', $1::bigint,
    CASE m.metric WHEN 'battery_pct' THEN (substr(id, 5)::int * 37) % 100
      WHEN 'signal_dbm' THEN -50 - (substr(id, 5)::int * 13) % 60
      ELSE substr(id, 5)::int % 3 END
  FROM devices, (VALUES ('battery_pct'), ('signal_dbm'), ('errors')) AS m(metric)`;

const pgRollups = `
  INSERT INTO telemetry_rollups (scope, scope_key, resolution, metric, bucket_start_ms, kind, min, max, sum, count,
    last, last_at_ms)
  SELECT 'device', id, 'hour', 'errors', $2::bigint, 'health', 0, 2, substr(id, 5)::int % 3, 12, 0, $1::bigint
  FROM devices`;

export async function seedPostgresFleet(
  url: string,
  schema: string,
  devices: number,
  nowMs: number,
): Promise<SeededFleet> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const stores = await openStores({ kind: 'postgres', url, schema });
  await admin.query(`SET search_path TO ${schema}, public`);
  const started = performance.now();
  await admin.query(pgDevices, [devices, new Date(nowMs - 30 * 24 * HOUR), new Date(nowMs)]);
  await admin.query(pgLatest, [nowMs]);
  await admin.query(pgRollups, [nowMs, Math.floor(nowMs / HOUR) * HOUR]);
  await admin.query('VACUUM ANALYZE devices');
  await admin.query('VACUUM ANALYZE telemetry_latest');
  await admin.query('VACUUM ANALYZE telemetry_rollups');
  const seedMs = performance.now() - started;
  return {
    stores,
    seedMs,
    async scalar(sql) {
      const result = await admin.query({ text: sql, rowMode: 'array' });
      return Number((result.rows[0] as unknown[] | undefined)?.[0] ?? 0);
    },
    async close() {
      await stores.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}
