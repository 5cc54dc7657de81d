/**
 * The retention job end to end on SQLite and PostgreSQL: expired days go to Parquet files that an independent
 * reader (DuckDB) reads back exactly as written, their hot rows are gone, a second run changes
 * nothing, and a crash at any step ends, after the next run, with every row archived exactly once.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import type { BatchToStore } from '../../src/store/telemetry-types.ts';
import { fileSha256 } from '../../src/telemetry/retention/archive-file.ts';
import type pg from 'pg';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { daysAgo, failingOnce, retentionRig, sampleBatches, type RetentionRig } from './retention-fixture.ts';

const files = tempDatabaseFiles('retention');
let duck: DuckDBConnection;

before(async () => {
  await files.open();
  duck = await (await DuckDBInstance.create(':memory:')).connect();
});
after(() => files.close());

const devices = ['dev-a', 'dev-b'];

/** What the job must archive: the written rows of the expired days, per source. */
function expectedWindows(batches: readonly BatchToStore[], kind: 'health' | 'app', beforeMs: number) {
  return batches
    .flatMap((b) => b.windows.filter((w) => w.kind === kind).map((w) => ({ deviceId: b.deviceId, ...w })))
    .filter((w) => w.startMs < beforeMs)
    .map((w) => ({
      device_id: w.deviceId,
      metric: w.metric,
      start_ms: w.startMs,
      end_ms: w.endMs,
      min: w.min,
      max: w.max,
      avg: w.avg,
      count: w.count,
      last: w.last,
      kind,
      day: new Date(w.startMs - (w.startMs % 86_400_000)).toISOString().slice(0, 10),
    }))
    .sort(
      (a, b) =>
        a.start_ms - b.start_ms || a.device_id.localeCompare(b.device_id) || a.metric.localeCompare(b.metric),
    );
}

function expectedEvents(batches: readonly BatchToStore[], beforeMs: number) {
  return batches
    .flatMap((b) => b.events.map((e) => ({ device_id: b.deviceId, seq: b.seq, ...e })))
    .filter((e) => e.atMs < beforeMs)
    .map((e) => ({
      device_id: e.device_id,
      seq: e.seq,
      at_ms: e.atMs,
      type: e.type,
      severity: e.severity,
      code: e.code,
      message: e.message ?? null,
    }))
    .sort((a, b) => a.at_ms - b.at_ms || a.device_id.localeCompare(b.device_id));
}

/** Rows as DuckDB reads them from every file (Hive partitions as columns), numbers as numbers. */
async function duckRows(sql: string): Promise<Array<Record<string, unknown>>> {
  const rows = (await duck.runAndReadAll(sql)).getRowObjectsJson();
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        typeof v === 'string' && /^-?\d+$/.test(v) && k !== 'device_id' ? Number(v) : v,
      ]),
    ),
  );
}

function archivedWindows(root: string) {
  return duckRows(
    `SELECT device_id, metric, start_ms, end_ms, min, max, avg, count, last, kind, CAST(day AS VARCHAR) AS day
      FROM read_parquet('${join(root, 'windows', '**', '*.parquet')}', hive_partitioning = true)
      ORDER BY start_ms, device_id, metric`,
  );
}

function archivedEvents(root: string) {
  return duckRows(
    `SELECT device_id, seq, at_ms, type, severity, code, message
      FROM read_parquet('${join(root, 'events', '**', '*.parquet')}', hive_partitioning = true)
      ORDER BY at_ms, device_id`,
  );
}

const unreachable = await probePostgres();
let admin: pg.Client | undefined;
const schemas: string[] = [];
after(async () => {
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin?.end();
});

const dialects: Array<{ name: string; skip: string | false; open(): Promise<Stores> }> = [
  { name: 'SQLite', skip: false, open: () => openStores({ kind: 'sqlite', file: files.fresh() }) },
  {
    name: 'PostgreSQL',
    skip: skipUnlessCi(unreachable),
    async open() {
      admin ??= await adminClient(unreachable);
      const schema = uniqueSchemaName();
      schemas.push(schema);
      return openStores({ kind: 'postgres', url: postgresUrl, schema });
    },
  },
];

for (const dialect of dialects)
  describe(
    `telemetry retention job (${dialect.name}, DuckDB as the independent reader)`,
    { skip: dialect.skip },
    () => {
      let stores: Stores;
      let rig: RetentionRig;
      let batches: BatchToStore[];

      beforeEach(async () => {
        stores = await dialect.open();
        for (const id of devices) await stores.devices.createDevice({ id, serial: `S-${id}` }, daysAgo(30));
        batches = sampleBatches(devices);
        await stores.telemetry.writeBatches(batches);
        rig = await retentionRig(stores);
      });
      afterEach(async () => {
        await stores.close();
        await rig.close();
      });

      /** The three sources are archived exactly as written and nothing else. */
      async function assertArchivedExactlyOnce(): Promise<void> {
        assert.deepEqual(
          await archivedWindows(rig.root),
          [
            ...expectedWindows(batches, 'health', daysAgo(3)),
            ...expectedWindows(batches, 'app', daysAgo(2)),
          ].sort(
            (a, b) =>
              a.start_ms - b.start_ms ||
              a.device_id.localeCompare(b.device_id) ||
              a.metric.localeCompare(b.metric),
          ),
        );
        assert.deepEqual(await archivedEvents(rig.root), expectedEvents(batches, daysAgo(4)));
      }

      /** Hot rows left, per source: only days inside the raw retention. */
      async function hotDays() {
        const r = stores.telemetryRetention;
        const end = daysAgo(-1);
        return {
          health: await r.rawDays({ table: 'windows', kind: 'health' }, end),
          app: await r.rawDays({ table: 'windows', kind: 'app' }, end),
          events: await r.rawDays({ table: 'events' }, end),
        };
      }

      it('archives expired days to Parquet, deletes them from the hot store, and a second run is a no-op', async () => {
        const report = await rig.job().runOnce();
        assert.deepEqual(
          report.archived.map((e) => `${e.path}:${e.rows}`),
          [
            'windows/kind=app/day=2026-11-20/data.parquet:4',
            'windows/kind=app/day=2026-11-21/data.parquet:4',
            'windows/kind=app/day=2026-11-22/data.parquet:4',
            'windows/kind=app/day=2026-11-23/data.parquet:4',
            'windows/kind=app/day=2026-11-24/data.parquet:4',
            'windows/kind=health/day=2026-11-20/data.parquet:4',
            'windows/kind=health/day=2026-11-21/data.parquet:4',
            'windows/kind=health/day=2026-11-22/data.parquet:4',
            'windows/kind=health/day=2026-11-23/data.parquet:4',
            'events/day=2026-11-20/data.parquet:2',
            'events/day=2026-11-21/data.parquet:4',
            'events/day=2026-11-22/data.parquet:2',
          ],
        );
        await assertArchivedExactlyOnce();
        assert.deepEqual(await hotDays(), {
          health: [daysAgo(3), daysAgo(2), daysAgo(1), daysAgo(0)],
          app: [daysAgo(2), daysAgo(1), daysAgo(0)],
          events: [daysAgo(4), daysAgo(3), daysAgo(2), daysAgo(1), daysAgo(0)],
        });
        assert.equal(report.deleted.windows, 9 * 4);
        assert.equal(report.deleted.events, 8);

        // The catalog matches the files.
        const catalog = await stores.telemetryRetention.listArchives();
        assert.equal(catalog.length, 12);
        for (const entry of catalog) {
          const path = join(rig.root, ...entry.path.split('/'));
          assert.equal(await fileSha256(path), entry.sha256);
          assert.equal((await readFile(path)).length, entry.bytes);
        }

        const again = await rig.job().runOnce();
        assert.deepEqual(again.archived, []);
        assert.deepEqual(again.deleted, { windows: 0, events: 0, rollups: 0, batches: 0 });
        assert.deepEqual(await stores.telemetryRetention.listArchives(), catalog);
        await assertArchivedExactlyOnce();

        const metrics = await rig.metricsRegistry.metrics();
        assert.match(metrics, /flotilla_telemetry_archived_rows_total\{table="windows"\} 36/);
        assert.match(metrics, /flotilla_telemetry_archived_rows_total\{table="events"\} 8/);
        assert.match(metrics, /flotilla_telemetry_archive_runs_total\{outcome="success"\} 2/);
      });

      it('deletes expired rollups and dedup rows, not the rest', async () => {
        const report = await rig.job().runOnce();
        // hourly kept 5 days, daily 8: the 7-day-old day has daily rollups but no hourly ones left.
        assert.ok(report.deleted.rollups > 0);
        const hourly = await stores.telemetry.querySeries({
          scope: 'device',
          key: 'dev-a',
          metric: 'battery_pct',
          resolution: 'hour',
          fromMs: daysAgo(10),
          toMs: daysAgo(-1),
          limit: 1000,
        });
        assert.ok(hourly.every((p) => p.startMs >= daysAgo(6)));
        assert.ok(hourly.some((p) => p.startMs < daysAgo(5) + 86_400_000));
        const daily = await stores.telemetry.querySeries({
          scope: 'device',
          key: 'dev-a',
          metric: 'battery_pct',
          resolution: 'day',
          fromMs: daysAgo(10),
          toMs: daysAgo(-1),
          limit: 1000,
        });
        assert.equal(daily.length, 8);
        // Batches received more than 4 + 1 days ago (before Nov 22 10:00): 3 days of both devices.
        assert.equal(report.deleted.batches, 6);
      });

      it('a crash between "file written" and "rows deleted" ends with every row archived once', async () => {
        await assert.rejects(
          rig.job(failingOnce(stores.telemetryRetention, 'deleteRawDay')).runOnce(),
          /simulated/,
        );
        // The first day is durable and catalogued, its hot rows still there.
        assert.equal((await stores.telemetryRetention.listArchives()).length, 1);
        const report = await rig.job().runOnce();
        assert.equal(report.archived.length, 11);
        await assertArchivedExactlyOnce();
        assert.deepEqual((await hotDays()).app, [daysAgo(2), daysAgo(1), daysAgo(0)]);
        assert.match(
          await rig.metricsRegistry.metrics(),
          /flotilla_telemetry_archive_runs_total\{outcome="failure"\} 1/,
        );
      });

      it('a crash between "file renamed" and "catalogued" rewrites the same file', async () => {
        await assert.rejects(
          rig.job(failingOnce(stores.telemetryRetention, 'recordArchive')).runOnce(),
          /simulated/,
        );
        const orphan = join(rig.root, 'windows', 'kind=app', 'day=2026-11-20/data.parquet');
        const before = await fileSha256(orphan);
        assert.deepEqual(await stores.telemetryRetention.listArchives(), []);
        await rig.job().runOnce();
        const [entry] = await stores.telemetryRetention.listArchives({ table: 'windows', kind: 'app' });
        assert.equal(entry?.sha256, before);
        await assertArchivedExactlyOnce();
      });
    },
  );
