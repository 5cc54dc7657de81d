/** Fleet metrics and rule matches on the shared better-sqlite3 handle (queries: fleet-metrics-query.ts). */
import type Database from 'better-sqlite3';
import { sqliteQueryDialect } from '../../fleet-query/sql/sqlite-dialect.ts';
import {
  countQuery,
  currentReleaseQuery,
  errorTotalsQuery,
  firmwareQuery,
  histogramQuery,
  matchQuery,
  type MetricsDialect,
  type MetricsSql,
} from '../fleet-metrics-query.ts';
import { bucketCounts, toDeviceMatches, type MatchRow } from '../fleet-metrics-rows.ts';
import type {
  BucketBounds,
  DeviceCondition,
  DeviceMatch,
  FleetMetricsStore,
  MetricsScope,
} from '../fleet-metrics-types.ts';
import { runSync } from './sqlite-errors.ts';

const dialect: MetricsDialect = {
  placeholder: () => '?',
  query: sqliteQueryDialect,
  msOf: (expression) => expression,
};

export class SqliteFleetMetricsStore implements FleetMetricsStore {
  readonly #db: Database.Database;

  /** The device store registers flotilla_version_key on the same handle first (openSqliteStores). */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  #all<R>(query: MetricsSql): Promise<R[]> {
    return runSync(this.#db, () => this.#db.prepare(query.sql).all(...query.params) as R[]);
  }

  async countDevices(scope: MetricsScope): Promise<{ total: number; online: number }> {
    const [row] = await this.#all<{ total: number; online: number }>(countQuery(dialect, scope));
    return { total: Number(row?.total ?? 0), online: Number(row?.online ?? 0) };
  }

  async firmwareVersions(scope: MetricsScope, limit: number) {
    const rows = await this.#all<{ version: string | null; devices: number }>(
      firmwareQuery(dialect, scope, limit),
    );
    return rows.map((row) => ({ version: row.version, devices: Number(row.devices) }));
  }

  async currentRelease(scope: MetricsScope): Promise<{ withRelease: number; onCurrent: number }> {
    const [row] = await this.#all<{ with_release: number; on_current: number }>(
      currentReleaseQuery(dialect, scope),
    );
    return { withRelease: Number(row?.with_release ?? 0), onCurrent: Number(row?.on_current ?? 0) };
  }

  async histogram(scope: MetricsScope, metric: string, bounds: BucketBounds): Promise<number[]> {
    return bucketCounts(await this.#all(histogramQuery(dialect, scope, metric, bounds)), bounds);
  }

  async errorTotals(scope: MetricsScope, fromMs: number): Promise<{ errors: number; samples: number }> {
    const [row] = await this.#all<{ errors: number; samples: number }>(
      errorTotalsQuery(dialect, scope, fromMs),
    );
    return { errors: Number(row?.errors ?? 0), samples: Number(row?.samples ?? 0) };
  }

  async matchDevices(condition: DeviceCondition, scope: MetricsScope): Promise<DeviceMatch[]> {
    return toDeviceMatches(
      await this.#all<MatchRow>(matchQuery(dialect, scope, condition)),
      condition,
      scope,
    );
  }
}
