/** Fleet metrics and rule matches on the shared pg pool (queries: fleet-metrics-query.ts). */
import { postgresQueryDialect } from '../../fleet-query/sql/postgres-dialect.ts';
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
import type { PgSession } from './pg-session.ts';

const dialect: MetricsDialect = {
  placeholder: (position) => `$${position}`,
  query: postgresQueryDialect,
  msOf: (expression) => `(extract(epoch FROM ${expression}) * 1000)::float8`,
};

type Big = number | string;

export class PostgresFleetMetricsStore implements FleetMetricsStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async #all<R extends object>(query: MetricsSql): Promise<R[]> {
    return (await this.#session.query<R & Record<string, unknown>>(query.sql, query.params)).rows;
  }

  async countDevices(scope: MetricsScope): Promise<{ total: number; online: number }> {
    const [row] = await this.#all<{ total: Big; online: Big }>(countQuery(dialect, scope));
    return { total: Number(row?.total ?? 0), online: Number(row?.online ?? 0) };
  }

  async firmwareVersions(scope: MetricsScope, limit: number) {
    const rows = await this.#all<{ version: string | null; devices: Big }>(
      firmwareQuery(dialect, scope, limit),
    );
    return rows.map((row) => ({ version: row.version, devices: Number(row.devices) }));
  }

  async currentRelease(scope: MetricsScope): Promise<{ withRelease: number; onCurrent: number }> {
    const [row] = await this.#all<{ with_release: Big; on_current: Big }>(
      currentReleaseQuery(dialect, scope),
    );
    return { withRelease: Number(row?.with_release ?? 0), onCurrent: Number(row?.on_current ?? 0) };
  }

  async histogram(scope: MetricsScope, metric: string, bounds: BucketBounds): Promise<number[]> {
    return bucketCounts(
      await this.#all<{ bucket: Big; devices: Big }>(histogramQuery(dialect, scope, metric, bounds)),
      bounds,
    );
  }

  async errorTotals(scope: MetricsScope, fromMs: number): Promise<{ errors: number; samples: number }> {
    const [row] = await this.#all<{ errors: Big; samples: Big }>(errorTotalsQuery(dialect, scope, fromMs));
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
