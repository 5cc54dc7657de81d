/**
 * Bench set-up for the rollout benchmarks: a SQLite file with N registered devices, written with
 * one prepared INSERT in a single transaction (the store's createDevice commits per device, which
 * would make a million devices take minutes of set-up and measure nothing of interest), and the
 * rollout service over it on the real stores and deployment service (notify is a no-op).
 */
import { rm } from 'node:fs/promises';
import pino from 'pino';
import { createDeploymentService } from '../src/ota/deployments/deployment-service.ts';
import { createRolloutService } from '../src/ota/rollouts/rollout-service.ts';
import { openStores, type Stores } from '../src/store/open-store.ts';
import { migrateSqlite } from '../src/store/sqlite/migrations.ts';
import { openSqliteDatabase } from '../src/store/sqlite/open-sqlite-database.ts';

export const BENCH_MODEL = 'bench-tracker';
export const BENCH_VERSION = '2.0.0';
const DAY = 86_400_000;

/**
 * Device i: 95 % bench-tracker rev A (the rest another model), 2 % of those already on the
 * release (excluded at planning), regions eu/us/ap in turn, every tenth in ring beta. Registered a
 * day before the run, so the late-device watermark sees none of them as new.
 */
export function writeFleet(file: string, devices: number, nowMs: number): number {
  const db = openSqliteDatabase(file);
  try {
    migrateSqlite(db);
    const insert = db.prepare(
      `INSERT INTO devices (id, serial, hardware_model, hardware_revision, firmware_version, tags, region,
         created_at, attributes_changed_at) VALUES (?, ?, ?, 'A', ?, ?, ?, ?, ?)`,
    );
    const registeredAt = nowMs - DAY;
    const started = performance.now();
    db.transaction(() => {
      for (let i = 0; i < devices; i++) {
        const id = `dev-${String(i).padStart(7, '0')}`;
        const model = i % 20 === 19 ? 'bench-gateway' : BENCH_MODEL;
        const firmware = i % 50 === 7 ? BENCH_VERSION : '1.0.0';
        const tags = i % 10 === 0 ? '{"ring":"beta"}' : '{"ring":"stable"}';
        const region = ['eu', 'us', 'ap'][i % 3] ?? 'eu';
        insert.run(id, `SN-${id}`, model, firmware, tags, region, registeredAt, registeredAt);
      }
    })();
    return performance.now() - started;
  } finally {
    db.close();
  }
}

export async function freshFile(file: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(`${file}${suffix}`, { force: true });
}

export interface BenchRollouts {
  stores: Stores;
  service: ReturnType<typeof createRolloutService>;
  deployments: ReturnType<typeof createDeploymentService>;
  clock: { now(): number; set(ms: number): void };
}

/** The stores on `file`, the release, and the services over them. */
export async function openBenchRollouts(file: string, nowMs: number): Promise<BenchRollouts> {
  let now = nowMs;
  const clock = { now: () => now, set: (ms: number) => void (now = ms) };
  const logger = pino({ level: 'silent' });
  const stores = await openStores({ kind: 'sqlite', file });
  if (!(await stores.releases.getRelease(BENCH_MODEL, BENCH_VERSION)))
    await stores.releases.createRelease(
      {
        version: BENCH_VERSION,
        hardwareModel: BENCH_MODEL,
        hardwareRevisions: ['A'],
        sha256: 'a'.repeat(64),
        size: 1_048_576,
        security: false,
        minVersion: null,
        mandatory: false,
        notes: 'bench',
        createdBy: 'bench',
      },
      nowMs,
    );
  const deployments = createDeploymentService({
    store: stores.updates,
    devices: stores.devices,
    releases: stores.releases,
    audit: stores.provisioning,
    clock,
    logger,
    notify: () => Promise.resolve(),
  });
  const service = createRolloutService({
    store: stores.rollouts,
    devices: stores.devices,
    releases: stores.releases,
    updates: stores.updates,
    deployments,
    audit: stores.provisioning,
    clock,
    logger,
  });
  return { stores, service, deployments, clock };
}
