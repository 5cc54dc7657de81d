/**
 * The fleet-metrics and rule-match queries, built once for both SQL dialects. Every value is bound;
 * the scope (a fleet query) is compiled by the fleet-query compiler. Each is one statement whose
 * work is done by the database (count, GROUP BY, sum), so the answer has a handful of rows at any
 * fleet size; a rule match returns only the matching devices.
 */
import { compileWhere } from '../fleet-query/sql/compile.ts';
import type { Bind, QueryDialect } from '../fleet-query/sql/dialect.ts';
import type { BucketBounds, DeviceCondition, MetricsScope } from './fleet-metrics-types.ts';

export interface MetricsDialect {
  placeholder(position: number): string;
  query: QueryDialect;
  /** A time column as ms since the epoch (a number). */
  msOf(expression: string): string;
}

export interface MetricsSql {
  sql: string;
  params: Array<string | number>;
}

/** `errors` counter rollups: the error-rate source (docs/telemetry.md). */
export const ERRORS_METRIC = 'errors';

type Build = (bind: Bind, where: (extra?: string[]) => string) => string;

/** Runs `build` with a binder and a WHERE builder that appends the scope's condition last. */
function build(dialect: MetricsDialect, scope: MetricsScope, body: Build): MetricsSql {
  const params: Array<string | number> = [];
  const bind: Bind = (value) => {
    params.push(value);
    return dialect.placeholder(params.length);
  };
  const where = (extra: string[] = []): string => {
    const conditions = [...extra];
    if (scope.where !== undefined)
      conditions.push(compileWhere(scope.where, { dialect: dialect.query, bind, nowMs: scope.nowMs }));
    return conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  };
  return { sql: body(bind, where), params };
}

export function countQuery(dialect: MetricsDialect, scope: MetricsScope): MetricsSql {
  return build(
    dialect,
    scope,
    (bind, where) =>
      `SELECT count(*) AS total, coalesce(sum(CASE WHEN devices.connection_state = ${bind('online')} THEN 1 ELSE 0 END), 0) AS online FROM devices${where()}`,
  );
}

export function firmwareQuery(dialect: MetricsDialect, scope: MetricsScope, limit: number): MetricsSql {
  return build(
    dialect,
    scope,
    (bind, where) =>
      `SELECT devices.firmware_version AS version, count(*) AS devices FROM devices${where()}
       GROUP BY devices.firmware_version ORDER BY count(*) DESC LIMIT ${bind(limit)}`,
  );
}

/** The current release of a model is its newest by semver precedence (the version key's maximum). */
export function currentReleaseQuery(dialect: MetricsDialect, scope: MetricsScope): MetricsSql {
  const versionKey = (column: string) => dialect.query.versionKey(column);
  return build(
    dialect,
    scope,
    (_bind, where) =>
      `SELECT count(*) AS with_release,
         coalesce(sum(CASE WHEN ${versionKey('devices.firmware_version')} = cur.version_key THEN 1 ELSE 0 END), 0) AS on_current
       FROM devices JOIN (SELECT hardware_model, max(${versionKey('version')}) AS version_key FROM releases
         GROUP BY hardware_model) AS cur ON cur.hardware_model = devices.hardware_model${where()}`,
  );
}

/** One row per non-empty bucket: its index and count. */
export function histogramQuery(
  dialect: MetricsDialect,
  scope: MetricsScope,
  metric: string,
  bounds: BucketBounds,
): MetricsSql {
  return build(dialect, scope, (bind, where) => {
    // Bound in textual order (`?` placeholders): the CASE comes before the join.
    const cases = bounds.map((bound, index) => `WHEN tl.value < ${bind(bound)} THEN ${index}`).join(' ');
    const join = `JOIN telemetry_latest AS tl ON tl.device_id = devices.id AND tl.metric = ${bind(metric)}`;
    // The bucket indexes are integers from this code, not input.
    return `SELECT bucket, count(*) AS devices FROM (SELECT CASE ${cases} ELSE ${bounds.length} END AS bucket
      FROM devices ${join}${where()}) AS b GROUP BY bucket`;
  });
}

/**
 * Without a scope the fleet rollup (one row per hour) answers; with one, the members' device
 * rollups are summed in the database.
 */
export function errorTotalsQuery(dialect: MetricsDialect, scope: MetricsScope, fromMs: number): MetricsSql {
  return build(dialect, scope, (bind, where) => {
    const totals = 'coalesce(sum(r.sum), 0) AS errors, coalesce(sum(r.count), 0) AS samples';
    const rollups = (kind: string) =>
      `r.scope = ${bind(kind)} AND r.resolution = ${bind('hour')} AND r.metric = ${bind(ERRORS_METRIC)} AND r.bucket_start_ms >= ${bind(fromMs)}`;
    if (scope.where === undefined)
      return `SELECT ${totals} FROM telemetry_rollups AS r WHERE ${rollups('fleet')} AND r.scope_key = ${bind('')}`;
    return `SELECT ${totals} FROM telemetry_rollups AS r JOIN devices ON devices.id = r.scope_key${where([rollups('device')])}`;
  });
}

/** `SELECT devices.id AS id, <value> AS value …` for the devices a rule condition matches, by id. */
export function matchQuery(
  dialect: MetricsDialect,
  scope: MetricsScope,
  condition: DeviceCondition,
): MetricsSql {
  return build(dialect, scope, (bind, where) => {
    switch (condition.kind) {
      case 'telemetry':
        // Ordered by the index's device_id (the same as devices.id), so no sort is needed.
        return `SELECT devices.id AS id, tl.value AS value FROM devices
          JOIN telemetry_latest AS tl ON tl.device_id = devices.id AND tl.metric = ${bind(condition.metric)}
          ${where([`tl.value ${condition.operator} ${bind(condition.threshold)}`])} ORDER BY tl.device_id`;
      case 'offline': {
        // offline_for > d ⇔ reference < now − d: the stored time is compared, as fleet queries do.
        const reference = 'coalesce(devices.last_seen_at, devices.connection_changed_at, devices.created_at)';
        const threshold = () => dialect.query.time(scope.nowMs - condition.thresholdMs, bind);
        const mirrored = mirror[condition.operator];
        return `SELECT devices.id AS id, ${dialect.msOf(reference)} AS value FROM devices
          ${where([`devices.connection_state = ${bind('offline')}`, `${reference} ${mirrored} ${threshold()}`])} ORDER BY devices.id`;
      }
      case 'error_rate': {
        const rate = '100.0 * e.errors / e.samples';
        return `SELECT devices.id AS id, ${rate} AS value FROM devices JOIN (
            SELECT scope_key, sum(sum) AS errors, CAST(sum(count) AS DOUBLE PRECISION) AS samples FROM telemetry_rollups
            WHERE scope = ${bind('device')} AND resolution = ${bind('hour')} AND metric = ${bind(ERRORS_METRIC)}
              AND bucket_start_ms >= ${bind(condition.fromMs)} GROUP BY scope_key
          ) AS e ON e.scope_key = devices.id
          ${where(['e.samples > 0', `${rate} ${condition.operator} ${bind(condition.thresholdPct)}`])} ORDER BY devices.id`;
      }
      case 'query': {
        const match = compileWhere(condition.query, { dialect: dialect.query, bind, nowMs: scope.nowMs });
        return `SELECT devices.id AS id, NULL AS value FROM devices${where([match])} ORDER BY devices.id`;
      }
    }
  });
}

const mirror = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const;
