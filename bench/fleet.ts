/**
 * Fleet benchmarks (issue 7) at 100,000 and 1,000,000 registered devices, on SQLite and
 * PostgreSQL: the fleet query language's typical selectors (count, and the first page of 100),
 * each against a hand-written SQL count of the same devices on the same database in the same run
 * (the baseline: what the compiled query costs over the query a person would write).
 * Set-up (bench/fleet-seed.ts) is not measured.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseFleetQuery } from '../src/fleet-query/index.ts';
import type { DeviceFilter } from '../src/store/types.ts';
import { freshFile } from './rollout-fleet.ts';
import { seedPostgresFleet, seedSqliteFleet, type SeededFleet } from './fleet-seed.ts';

const HOUR = 3_600_000;

export interface SelectorCase {
  query: string;
  /** The same devices, written by hand per dialect; `@cutoff24h` is replaced by the time 24 h before now. */
  baseline: { sqlite: string; postgres: string };
}

export const selectorCases: SelectorCase[] = [
  {
    query: 'model = "bench-tracker" and firmware < 2.4.1',
    baseline: {
      sqlite: `SELECT count(*) FROM devices WHERE hardware_model = 'bench-tracker' AND firmware_version IN ('2.3.0', '2.4.0')`,
      postgres: `SELECT count(*) FROM devices WHERE hardware_model = 'bench-tracker' AND firmware_version IN ('2.3.0', '2.4.0')`,
    },
  },
  {
    query: 'tag.ring = "beta" and status = "online"',
    baseline: {
      sqlite: `SELECT count(*) FROM devices WHERE json_extract(tags, '$.ring') = 'beta' AND connection_state = 'online'`,
      postgres: `SELECT count(*) FROM devices WHERE tags @> '{"ring":"beta"}' AND connection_state = 'online'`,
    },
  },
  {
    query: 'offline_for > 24h',
    baseline: {
      sqlite: `SELECT count(*) FROM devices WHERE connection_state = 'offline' AND last_seen_at < @cutoff24h`,
      postgres: `SELECT count(*) FROM devices WHERE connection_state = 'offline' AND last_seen_at < @cutoff24h`,
    },
  },
  {
    query: 'region in ("eu-west", "eu-north") and battery < 20',
    baseline: {
      sqlite: `SELECT count(*) FROM devices d JOIN telemetry_latest t ON t.device_id = d.id AND t.metric = 'battery_pct'
        WHERE d.region IN ('eu-west', 'eu-north') AND t.value < 20`,
      postgres: `SELECT count(*) FROM devices d JOIN telemetry_latest t ON t.device_id = d.id AND t.metric = 'battery_pct'
        WHERE d.region IN ('eu-west', 'eu-north') AND t.value < 20`,
    },
  },
  {
    query:
      'model = "bench-tracker" and firmware < 2.4.1 and region in ("eu-west", "eu-north") and battery < 20 and offline_for > 24h',
    baseline: {
      sqlite: `SELECT count(*) FROM devices d JOIN telemetry_latest t ON t.device_id = d.id AND t.metric = 'battery_pct'
        WHERE d.hardware_model = 'bench-tracker' AND d.firmware_version IN ('2.3.0', '2.4.0')
        AND d.region IN ('eu-west', 'eu-north') AND t.value < 20
        AND d.connection_state = 'offline' AND d.last_seen_at < @cutoff24h`,
      postgres: `SELECT count(*) FROM devices d JOIN telemetry_latest t ON t.device_id = d.id AND t.metric = 'battery_pct'
        WHERE d.hardware_model = 'bench-tracker' AND d.firmware_version IN ('2.3.0', '2.4.0')
        AND d.region IN ('eu-west', 'eu-north') AND t.value < 20
        AND d.connection_state = 'offline' AND d.last_seen_at < @cutoff24h`,
    },
  },
];

export type StoreKind = 'sqlite' | 'postgres';

export interface SelectorResult {
  query: string;
  matched: number;
  /** Median ms over the timed runs. */
  countMs: number;
  firstPageMs: number;
  baselineMs: number;
  baselineMatched: number;
}

export interface FleetRun {
  store: StoreKind;
  devices: number;
  seedMs: number;
  selectors: SelectorResult[];
  /** Further measurements on the same seeded fleet (fleet summary, alert evaluation), by name. */
  extra: Record<string, { ms: number; detail: string }>;
}

export interface FleetBench {
  date: Date;
  runs: FleetRun[];
  runsPerMeasurement: number;
  loadAverage: number;
  postgresSkipped?: string;
}

/** More measurements on a seeded fleet: name → (median ms, a note). Filled in where they exist. */
export type FleetProbe = (
  fleet: SeededFleet,
  nowMs: number,
) => Promise<Record<string, { run: () => Promise<unknown>; detail: (result: unknown) => string }>>;

async function median(runs: number, work: () => Promise<unknown>): Promise<{ ms: number; result: unknown }> {
  let result = await work(); // warm-up: caches and prepared statements
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    result = await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? 0, result };
}

async function measureFleet(
  store: StoreKind,
  fleet: SeededFleet,
  devices: number,
  nowMs: number,
  runs: number,
  probe: FleetProbe | undefined,
): Promise<FleetRun> {
  const selectors: SelectorResult[] = [];
  const cutoff =
    store === 'sqlite' ? String(nowMs - 24 * HOUR) : `'${new Date(nowMs - 24 * HOUR).toISOString()}'`;
  for (const c of selectorCases) {
    const filter: DeviceFilter = { where: { query: parseFleetQuery(c.query), nowMs } };
    const count = await median(runs, () => fleet.stores.devices.countDevices(filter));
    const page = await median(runs, () => fleet.stores.devices.listDevices(filter, { limit: 100 }));
    const baseline = await median(runs, () =>
      fleet.scalar(c.baseline[store].replaceAll('@cutoff24h', cutoff)),
    );
    selectors.push({
      query: c.query,
      matched: count.result as number,
      countMs: count.ms,
      firstPageMs: page.ms,
      baselineMs: baseline.ms,
      baselineMatched: baseline.result as number,
    });
    if (count.result !== baseline.result)
      process.stderr.write(
        `fleet bench: ${c.query} matched ${String(count.result)}, baseline ${String(baseline.result)}\n`,
      );
  }
  const extra: FleetRun['extra'] = {};
  for (const [name, measurement] of Object.entries((await probe?.(fleet, nowMs)) ?? {})) {
    const timed = await median(runs, measurement.run);
    extra[name] = { ms: timed.ms, detail: measurement.detail(timed.result) };
  }
  return { store, devices, seedMs: fleet.seedMs, selectors, extra };
}

export async function measureFleetQueries(
  dir: string,
  options: { sizes: number[]; runs: number; postgresUrl?: string; probe?: FleetProbe },
): Promise<FleetBench> {
  const nowMs = Date.now();
  const runs: FleetRun[] = [];
  let postgresSkipped: string | undefined;
  for (const devices of options.sizes) {
    process.stderr.write(`fleet bench: SQLite, ${devices} devices\n`);
    const file = join(dir, `fleet-${devices}.db`);
    await freshFile(file);
    const sqlite = await seedSqliteFleet(file, devices, nowMs);
    try {
      runs.push(await measureFleet('sqlite', sqlite, devices, nowMs, options.runs, options.probe));
    } finally {
      await sqlite.close();
      await freshFile(file);
    }
    if (options.postgresUrl === undefined) continue;
    process.stderr.write(`fleet bench: PostgreSQL, ${devices} devices\n`);
    let postgres: SeededFleet;
    try {
      postgres = await seedPostgresFleet(options.postgresUrl, 'flotilla_bench_fleet', devices, nowMs);
    } catch (error) {
      postgresSkipped = (error as Error).message;
      continue;
    }
    try {
      runs.push(await measureFleet('postgres', postgres, devices, nowMs, options.runs, options.probe));
    } finally {
      await postgres.close();
    }
  }
  return {
    date: new Date(),
    runs,
    runsPerMeasurement: options.runs,
    loadAverage: loadavg()[0] ?? 0,
    ...(postgresSkipped ? { postgresSkipped } : {}),
  };
}
