/**
 * Query latency over a large fleet: a SQLite registry of N devices (bench set-up: one prepared
 * INSERT in one transaction), latest values of four metrics for every device (likewise), and 24 h
 * of 5-minute health windows for a sample of devices written through the real store (so the
 * hourly and daily rollups are the store's own). Then `flotilla server` (its own process) answers
 * the management API, timed from this process: a device's last 24 h (raw windows and hourly
 * rollups), the fleet-wide latest-value view (`battery < 20` counted and listed), and the latest
 * values of 500 devices by id.
 */
import { join } from 'node:path';
import pg from 'pg';
import { openStores } from '../src/store/open-store.ts';
import { openSqliteDatabase } from '../src/store/sqlite/open-sqlite-database.ts';
import type { BatchToStore, WindowRow } from '../src/store/telemetry-types.ts';
import { startFlotilla } from './processes.ts';
import { freshFile, writeFleet } from './rollout-fleet.ts';

export interface Latency {
  query: string;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  /** What one answer held (points, items or the count), from the last request. */
  result: number;
}

/** Where the bench fleet lives: a SQLite file in the data dir, or a PostgreSQL schema (dropped first). */
export type QueryStore = { kind: 'sqlite' } | { kind: 'postgres'; url: string; schema: string };

export interface QueryBench {
  store: QueryStore['kind'];
  devices: number;
  devicesWithHistory: number;
  latestRows: number;
  windowRows: number;
  seedMs: number;
  latencies: Latency[];
}

const HOUR = 3_600_000;
const METRICS = ['battery_pct', 'signal_dbm', 'temperature_c', 'errors'] as const;
const deviceId = (i: number) => `dev-${String(i).padStart(7, '0')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function value(metric: (typeof METRICS)[number], i: number, t: number): number {
  switch (metric) {
    case 'battery_pct':
      return (i * 37 + t) % 100;
    case 'signal_dbm':
      return -60 - ((i * 13 + t) % 50);
    case 'temperature_c':
      return 15 + ((i + t) % 20);
    case 'errors':
      return (i + t) % 3;
  }
}

/** 24 h of 5-min health windows for the device, one batch per hour. */
function dayOfBatches(i: number, endMs: number): BatchToStore[] {
  const batches: BatchToStore[] = [];
  for (let h = 0; h < 24; h++) {
    const windows: WindowRow[] = [];
    for (let w = 0; w < 12; w++) {
      const startMs = endMs - 24 * HOUR + h * HOUR + w * 300_000;
      for (const metric of METRICS) {
        const v = value(metric, i, h * 12 + w);
        windows.push({
          kind: 'health',
          metric,
          startMs,
          endMs: startMs + 300_000,
          min: v,
          max: v + 1,
          avg: v + 0.5,
          count: 5,
          last: v,
        });
      }
    }
    batches.push({
      deviceId: deviceId(i),
      seq: h + 1,
      receivedAtMs: endMs,
      windows,
      events: [],
      accepted: windows.length,
      rejected: 0,
    });
  }
  return batches;
}

function seedSqlite(file: string, devices: number, nowMs: number): void {
  writeFleet(file, devices, nowMs);
  const db = openSqliteDatabase(file);
  try {
    const insert = db.prepare(
      'INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value) VALUES (?, ?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (let i = 0; i < devices; i++)
        for (const metric of METRICS)
          insert.run(deviceId(i), metric, 'health', nowMs - (i % 3600) * 1000, value(metric, i, 0));
    })();
  } finally {
    db.close();
  }
}

/** The same fleet and latest values as seedSqlite (value() in SQL), one statement each. */
async function seedPostgres(
  store: { url: string; schema: string },
  devices: number,
  nowMs: number,
): Promise<void> {
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    const schema = `"${store.schema}"`;
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    // Creates the schema and runs the migrations.
    await (await openStores({ kind: 'postgres', url: store.url, schema: store.schema })).close();
    await client.query(`SET search_path TO ${schema}`);
    await client.query(
      `INSERT INTO devices (id, serial, hardware_model, hardware_revision, firmware_version, tags, region,
         created_at, attributes_changed_at)
       SELECT 'dev-' || lpad(i::text, 7, '0'), 'SN-dev-' || lpad(i::text, 7, '0'),
         CASE WHEN i % 20 = 19 THEN 'bench-gateway' ELSE 'bench-tracker' END, 'A',
         CASE WHEN i % 50 = 7 THEN '2.0.0' ELSE '1.0.0' END,
         CASE WHEN i % 10 = 0 THEN '{"ring":"beta"}'::jsonb ELSE '{"ring":"stable"}'::jsonb END,
         (ARRAY['eu','us','ap'])[i % 3 + 1], to_timestamp($2::bigint / 1000.0), to_timestamp($2::bigint / 1000.0)
       FROM generate_series(0, $1 - 1) AS i`,
      [devices, nowMs - 86_400_000],
    );
    await client.query(
      `INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value)
       SELECT 'dev-' || lpad(i::text, 7, '0'), m, 'health', $2::bigint - (i % 3600) * 1000,
         CASE m WHEN 'battery_pct' THEN (i * 37) % 100 WHEN 'signal_dbm' THEN -60 - (i * 13) % 50
           WHEN 'temperature_c' THEN 15 + i % 20 ELSE i % 3 END
       FROM generate_series(0, $1 - 1) AS i, unnest($3::text[]) AS m`,
      [devices, nowMs, [...METRICS]],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function seed(
  dir: string,
  store: QueryStore,
  devices: number,
  withHistory: number,
  nowMs: number,
): Promise<number> {
  const started = performance.now();
  if (store.kind === 'sqlite') seedSqlite(join(dir, 'flotilla.db'), devices, nowMs);
  else await seedPostgres(store, devices, nowMs);
  const stores = await openStores(
    store.kind === 'sqlite' ? { kind: 'sqlite', file: join(dir, 'flotilla.db') } : store,
  );
  try {
    const endMs = Math.floor(nowMs / HOUR) * HOUR;
    for (let i = 0; i < withHistory; i++) await stores.telemetry.writeBatches(dayOfBatches(i, endMs));
  } finally {
    await stores.close();
  }
  return performance.now() - started;
}

async function time(
  authorization: string,
  url: string,
  requests: number,
  size: (body: Record<string, unknown>) => number,
  query: string,
): Promise<Latency> {
  const ms: number[] = [];
  let result = 0;
  for (let r = 0; r < requests; r++) {
    const started = performance.now();
    const res = await fetch(url.replace('{i}', String(r)), { headers: { authorization } });
    const body = (await res.json()) as Record<string, unknown>;
    ms.push(performance.now() - started);
    if (!res.ok) throw new Error(`${query}: HTTP ${res.status} ${JSON.stringify(body)}`);
    result = size(body);
  }
  ms.sort((a, b) => a - b);
  return { query, requests, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95), result };
}

export async function measureQueries(
  dir: string,
  options: { devices: number; withHistory: number; requests: number; store: QueryStore },
): Promise<QueryBench> {
  const { store } = options;
  await freshFile(join(dir, 'flotilla.db'));
  const nowMs = Date.now();
  process.stderr.write(`telemetry: seeding ${options.devices} devices with latest values (${store.kind})\n`);
  const seedMs = await seed(dir, store, options.devices, options.withHistory, nowMs);
  const server = await startFlotilla(
    dir,
    store.kind === 'sqlite'
      ? {}
      : {
          args: ['--store', 'postgres', '--postgres-url', store.url],
          env: { FLOTILLA_POSTGRES_SCHEMA: store.schema },
        },
  );
  try {
    const api = `http://127.0.0.1:${server.httpPort}/api/v1`;
    const from = nowMs - 24 * HOUR;
    const pick = (r: number) => deviceId((r * 7) % options.withHistory);
    const series = (resolution: string) =>
      `${api}/telemetry/series?metric=battery_pct&resolution=${resolution}&from=${from}&to=${nowMs}&device=`;
    const points = (b: Record<string, unknown>) => (b['points'] as unknown[]).length;
    const items = (b: Record<string, unknown>) => (b['items'] as unknown[]).length;
    const where = encodeURIComponent('battery < 20');
    const latestIds = Array.from(
      { length: 500 },
      (_, k) => `device=${deviceId((k * 197) % options.devices)}`,
    ).join('&');
    const n = options.requests;
    const latencies: Latency[] = [];
    // Warm-up: the first request of each kind pays for statement preparation.
    await fetch(`${series('raw')}${pick(0)}`, { headers: { authorization: server.authorization } });
    const perDevice = async (resolution: string, label: string) => {
      const ms: Latency[] = [];
      for (let r = 0; r < n; r++)
        ms.push(await time(server.authorization, `${series(resolution)}${pick(r)}`, 1, points, label));
      const sorted = ms.map((m) => m.p50Ms).sort((a, b) => a - b);
      return {
        query: label,
        requests: n,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        result: ms.at(-1)?.result ?? 0,
      };
    };
    latencies.push(await perDevice('raw', 'one device, battery_pct, last 24 h, raw windows'));
    latencies.push(await perDevice('hour', 'one device, battery_pct, last 24 h, hourly rollups'));
    latencies.push(
      await time(
        server.authorization,
        `${api}/devices/count?where=${where}`,
        n,
        (b) => b['count'] as number,
        `fleet: count of \`battery < 20\` over ${options.devices.toLocaleString('en-US')} devices`,
      ),
    );
    latencies.push(
      await time(
        server.authorization,
        `${api}/devices?where=${where}&limit=100`,
        n,
        items,
        'fleet: first page (100) of `battery < 20`',
      ),
    );
    latencies.push(
      await time(
        server.authorization,
        `${api}/telemetry/latest?${latestIds}`,
        n,
        items,
        'latest values of 500 devices by id (every metric; a 1,000-id URL passes the 16 KiB request-line limit)',
      ),
    );
    return {
      store: store.kind,
      devices: options.devices,
      devicesWithHistory: options.withHistory,
      latestRows: options.devices * METRICS.length,
      windowRows: options.withHistory * 24 * 12 * METRICS.length,
      seedMs,
      latencies,
    };
  } finally {
    await server.stop();
  }
}
