/**
 * Telemetry benchmarks (issue 6), under `dir`:
 * - sustained ingest (telemetry-ingest.ts): Flotilla storing every batch on SQLite (and on
 *   PostgreSQL when asked for), against the same clients publishing to the same broker on a topic
 *   nothing stores, and to Mosquitto;
 * - bytes per device per day with and without on-device aggregation (telemetry-bytes.ts);
 * - query latency over a 100,000-device fleet (telemetry-query.ts), SQLite and optionally PostgreSQL.
 */
import { mkdir, rm } from 'node:fs/promises';
import pg from 'pg';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ensureFleetPki } from '../src/pki/fleet-pki.ts';
import { simulatedFleet } from '../src/sim/attributes.ts';
import { prepareSimIdentities } from '../src/sim/identities.ts';
import { openSqliteDatabase } from '../src/store/sqlite/open-sqlite-database.ts';
import { startFlotilla, startMosquitto } from './processes.ts';
import { measureBytesPerDay, type BytesBench } from './telemetry-bytes.ts';
import { measureIngest, type IngestRun } from './telemetry-ingest.ts';
import { measureQueries, type QueryBench, type QueryStore } from './telemetry-query.ts';

export interface TelemetryBenchOptions {
  /** Publishing clients (devices). */
  devices: number;
  /** Batches awaiting their PUBACK per client. */
  inFlight: number;
  durationS: number;
  /** Registered devices with latest values, for the query latencies. */
  latestDevices: number;
  /** Devices with 24 h of windows. */
  historyDevices: number;
  requests: number;
  /** Also measure the queries on PostgreSQL (a scratch schema, dropped first). */
  postgres?: { url: string; schema: string };
}

export interface TelemetryBench {
  date: Date;
  loadAverage: number;
  options: TelemetryBenchOptions;
  ingest: IngestRun[];
  bytes: BytesBench;
  /** SQLite, then PostgreSQL when asked for. */
  queries: QueryBench[];
}

function countRows(file: string): { batches: number; windows: number } {
  const db = openSqliteDatabase(file);
  try {
    const count = (table: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { batches: count('telemetry_batches'), windows: count('telemetry_windows') };
  } finally {
    db.close();
  }
}

async function measureAllIngest(dir: string, options: TelemetryBenchOptions): Promise<IngestRun[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pki = await ensureFleetPki(dir, ['localhost'], Date.now());
  const prepared = await prepareSimIdentities(dir, simulatedFleet(options.devices, 1), Date.now());
  const run = { inFlight: options.inFlight, durationMs: options.durationS * 1000 };
  const runs: IngestRun[] = [];
  const flotilla = await startFlotilla(dir);
  try {
    const url = `mqtts://localhost:${flotilla.mqttPort}`;
    const cpuMs = () => flotilla.cpuMs();
    process.stderr.write(`telemetry: ${options.devices} clients publishing to Flotilla (stored)\n`);
    runs.push(
      await measureIngest(
        { target: 'flotilla', url, topic: (id) => `fl/d/${id}/telemetry`, cpuMs },
        prepared.identities,
        prepared.caPem,
        { ...run, firstSeq: 1 },
      ),
    );
    process.stderr.write(`telemetry: the same to Flotilla on a topic nothing stores\n`);
    runs.push(
      await measureIngest(
        { target: 'flotilla-unstored', url, topic: (id) => `fl/d/${id}/bench`, cpuMs },
        prepared.identities,
        prepared.caPem,
        { ...run, firstSeq: 1 },
      ),
    );
  } finally {
    await flotilla.stop();
  }
  const stored = runs[0];
  if (stored) {
    const rows = countRows(join(dir, 'flotilla.db'));
    stored.storedBatches = rows.batches;
    stored.storedWindowRows = rows.windows;
  }
  if (options.postgres)
    runs.push(await measurePostgresIngest(dir, options.devices, options.postgres, prepared, run));
  const mosquitto = await startMosquitto(dir, pki.paths);
  try {
    process.stderr.write(`telemetry: the same to Mosquitto\n`);
    runs.push(
      await measureIngest(
        {
          target: 'mosquitto',
          url: `mqtts://localhost:${mosquitto.port}`,
          topic: (id) => `fl/d/${id}/telemetry`,
          cpuMs: () => mosquitto.cpuMs(),
        },
        prepared.identities,
        prepared.caPem,
        { ...run, firstSeq: 1 },
      ),
    );
  } finally {
    await mosquitto.stop();
  }
  return runs;
}

/**
 * The stored run again with Flotilla on PostgreSQL (a scratch schema `<schema>_ingest`, dropped
 * first and after; the same data directory, so the same fleet CA): the same clients, payloads and
 * duration; rows counted in the schema after.
 */
async function measurePostgresIngest(
  dir: string,
  devices: number,
  postgres: { url: string; schema: string },
  prepared: Awaited<ReturnType<typeof prepareSimIdentities>>,
  run: { inFlight: number; durationMs: number },
): Promise<IngestRun> {
  const { url, schema } = postgres;
  const ingestSchema = `${schema}_ingest`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${ingestSchema} CASCADE`);
    const flotilla = await startFlotilla(dir, {
      args: ['--store', 'postgres', '--postgres-url', url],
      env: { FLOTILLA_POSTGRES_SCHEMA: ingestSchema },
    });
    let result: IngestRun;
    try {
      process.stderr.write(`telemetry: ${devices} clients publishing to Flotilla on PostgreSQL (stored)\n`);
      result = await measureIngest(
        {
          target: 'flotilla-postgres',
          url: `mqtts://localhost:${flotilla.mqttPort}`,
          topic: (id) => `fl/d/${id}/telemetry`,
          cpuMs: () => flotilla.cpuMs(),
        },
        prepared.identities,
        prepared.caPem,
        { ...run, firstSeq: 1 },
      );
    } finally {
      await flotilla.stop();
    }
    const count = async (table: string) =>
      Number(
        (await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${ingestSchema}.${table}`)).rows[0]?.n ??
          0,
      );
    result.storedBatches = await count('telemetry_batches');
    result.storedWindowRows = await count('telemetry_windows');
    return result;
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${ingestSchema} CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

export async function measureTelemetry(dir: string, options: TelemetryBenchOptions): Promise<TelemetryBench> {
  const ingest = await measureAllIngest(join(dir, 'ingest'), options);
  const bytes = measureBytesPerDay();
  const queries: QueryBench[] = [];
  const stores: QueryStore[] = [{ kind: 'sqlite' }];
  if (options.postgres) stores.push({ kind: 'postgres', ...options.postgres });
  for (const store of stores) {
    const queryDir = join(dir, `query-${store.kind}`);
    await mkdir(queryDir, { recursive: true });
    queries.push(
      await measureQueries(queryDir, {
        devices: options.latestDevices,
        withHistory: options.historyDevices,
        requests: options.requests,
        store,
      }),
    );
  }
  return { date: new Date(), loadAverage: loadavg()[0] ?? 0, options, ingest, bytes, queries };
}
