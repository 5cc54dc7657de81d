/**
 * Rollout benchmarks (issue 5), on SQLite files under `dir`:
 * - plan time: `create` over N registered devices (the selector pushed into SQL, `planDevices`,
 *   cohorts, members written), against a plain `SELECT` of the same devices in the same run;
 * - status reports processed per second: UpdateStatus messages applied through the deployment
 *   service's status path while the orchestrator ticks over the rollout, against raw SQLite
 *   inserts of as many rows, one transaction each (a status is one transaction too).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { UpdateState } from '../src/contracts/update-messages.ts';
import { deviceColumns } from '../src/store/row-mapping.ts';
import { openSqliteDatabase } from '../src/store/sqlite/open-sqlite-database.ts';
import {
  BENCH_MODEL,
  BENCH_VERSION,
  freshFile,
  openBenchRollouts,
  writeFleet,
  type BenchRollouts,
} from './rollout-fleet.ts';

/** Wall time and this process's CPU time (user + system), in ms: the machine may be shared. */
export interface Timing {
  wallMs: number;
  cpuMs: number;
}

export interface PlanResult {
  devices: number;
  /** Bench set-up: the registry written in one transaction. */
  insert: Timing;
  /** Baseline: `SELECT <device columns> FROM devices WHERE hardware_model = ?`, every row. */
  scan: Timing;
  scanRows: number;
  /** `listDevicesMatching` paged through (1,000 a page): the selection alone. */
  select: Timing;
  plans: Array<{
    selector: string;
    targeted: number;
    excluded: number;
    stageSizes: number[];
    create: Timing;
  }>;
}

export interface StatusResult {
  devices: number;
  reports: number;
  /** The tick that starts every device of the one 100 % stage (one deployment). */
  startTick: Timing;
  /** Every report and the ticks between them. */
  total: Timing;
  /** An orchestrator tick after every this many reports. */
  tickEvery: number;
  ticks: number;
  /** The ticks alone (wall). */
  tickWallMs: number;
  /** Baseline: as many single-row INSERTs, each its own transaction, on the same file. */
  baseline: Timing;
}

export interface RolloutBench {
  plans: PlanResult[];
  status: StatusResult;
  date: Date;
  /** The machine's 1-minute load average at the end of the run: how shared it was. */
  loadAverage: number;
}

export interface RolloutBenchOptions {
  /** Registry sizes to plan over, e.g. [100_000, 1_000_000]. */
  planDevices: number[];
  statusDevices: number;
  /** An orchestrator tick after every this many reports. */
  tickEvery: number;
}

async function timed<T>(work: () => Promise<T> | T): Promise<[T, Timing]> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return [result, { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 }];
}

async function baselineScan(file: string): Promise<[number, Timing]> {
  const db = openSqliteDatabase(file);
  try {
    const select = db.prepare(`SELECT ${deviceColumns} FROM devices WHERE hardware_model = ?`);
    return await timed(() => select.all(BENCH_MODEL).length);
  } finally {
    db.close();
  }
}

async function selectAll(bench: BenchRollouts): Promise<number> {
  let cursor: string | undefined;
  let count = 0;
  do {
    const page = await bench.stores.devices.listDevicesMatching(
      { hardwareModel: BENCH_MODEL },
      { limit: 1000, ...(cursor ? { cursor } : {}) },
    );
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return count;
}

const planSelectors = [
  { label: 'every bench-tracker', selector: {} },
  { label: 'region eu (a third)', selector: { regions: ['eu'] } },
];

async function measurePlan(dir: string, devices: number): Promise<PlanResult> {
  const file = join(dir, `plan-${devices}.db`);
  await freshFile(file);
  const nowMs = Date.now();
  const [, insert] = await timed(() => writeFleet(file, devices, nowMs));
  const [scanRows, scan] = await baselineScan(file);
  const bench = await openBenchRollouts(file, nowMs);
  try {
    const [, select] = await timed(() => selectAll(bench));
    const plans: PlanResult['plans'] = [];
    for (const { label, selector } of planSelectors) {
      const spec = { release: { model: BENCH_MODEL, version: BENCH_VERSION }, selector };
      const [created, create] = await timed(() => bench.service.create(spec, 'bench'));
      const { excluded, stageSizes } = created;
      const targeted = stageSizes.reduce((a, b) => a + b, 0);
      plans.push({ selector: label, targeted, excluded: excluded.length, stageSizes, create });
      // Cancelled, so the next plan may take the same devices (one active rollout per device).
      await bench.service.cancel(created.rollout.id, 'bench');
    }
    return { devices, insert, scan, scanRows, select, plans };
  } finally {
    await bench.stores.close();
  }
}

async function measureStatus(dir: string, devices: number, tickEvery: number): Promise<StatusResult> {
  const file = join(dir, `status-${devices}.db`);
  await freshFile(file);
  let now = Date.now();
  writeFleet(file, devices, now);
  const bench = await openBenchRollouts(file, now);
  const tick = async () => {
    bench.clock.set((now += 1000));
    await bench.service.tick(now);
  };
  let result: Omit<StatusResult, 'baseline'>;
  try {
    const spec = {
      release: { model: BENCH_MODEL, version: BENCH_VERSION },
      stages: [{ percent: 100, holdS: 0 }],
    };
    const { rollout } = await bench.service.create(spec, 'bench');
    const [, startTick] = await timed(tick);
    const members = await bench.stores.rollouts.listMembers(rollout.id);
    const started = members.flatMap((m) =>
      m.deploymentId === null ? [] : [[m.deviceId, m.deploymentId] as const],
    );
    let reports = 0;
    let ticks = 0;
    let tickWallMs = 0;
    const states: UpdateState[] = ['downloading', 'installing', 'success'];
    const [, total] = await timed(async () => {
      for (const [index, state] of states.entries()) {
        for (const [deviceId, deploymentId] of started) {
          await bench.deployments.applyStatus(deviceId, {
            deploymentId,
            version: BENCH_VERSION,
            state,
            seq: index + 1,
          });
          reports += 1;
          if (reports % tickEvery !== 0) continue;
          const [, ticked] = await timed(tick);
          ticks += 1;
          tickWallMs += ticked.wallMs;
        }
      }
    });
    result = { devices, reports, startTick, total, tickEvery, ticks, tickWallMs };
  } finally {
    await bench.stores.close();
  }
  return { ...result, baseline: await baselineInserts(file, result.reports) };
}

async function baselineInserts(file: string, rows: number): Promise<Timing> {
  const db = openSqliteDatabase(file);
  try {
    db.exec(`CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, at INTEGER NOT NULL,
      state TEXT NOT NULL)`);
    const insert = db.prepare('INSERT INTO bench_rows (device_id, at, state) VALUES (?, ?, ?)');
    const [, timing] = await timed(() => {
      for (let i = 0; i < rows; i++) insert.run(`dev-${i}`, Date.now(), 'downloading');
    });
    return timing;
  } finally {
    db.close();
  }
}

export async function measureRollouts(dir: string, options: RolloutBenchOptions): Promise<RolloutBench> {
  const plans: PlanResult[] = [];
  for (const devices of options.planDevices) {
    process.stderr.write(`rollouts: planning over ${devices} registered devices\n`);
    plans.push(await measurePlan(dir, devices));
  }
  process.stderr.write(`rollouts: status reports over ${options.statusDevices} devices\n`);
  const status = await measureStatus(dir, options.statusDevices, options.tickEvery);
  return { plans, status, date: new Date(), loadAverage: loadavg()[0] ?? 0 };
}
