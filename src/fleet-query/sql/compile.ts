/**
 * Compiles a checked fleet query to a SQL condition over `devices`. Every value, tag key and
 * metric name is bound; the SQL text comes only from this file, the registry and the dialect.
 * Each condition is two-valued (never NULL), so `not` means "does not match": a device without
 * a region matches `region != "eu-west"`. Durations count back from `nowMs`, not the database clock.
 */
import { telemetryTable, type Field } from '../fields.ts';
import type { FleetQuery, OrderOperator, QueryNode, QueryValue } from '../query.ts';
import type { Bind, QueryDialect } from './dialect.ts';

export interface CompileContext {
  dialect: QueryDialect;
  bind: Bind;
  /** The reference time durations count back from, ms since the epoch. */
  nowMs: number;
}

/** A SQL boolean expression for the query, its values added through `context.bind`. */
export function compileWhere(query: FleetQuery, context: CompileContext): string {
  return compileNode(query.root, context);
}

const alwaysTrue = '(1 = 1)';

function compileNode(node: QueryNode, context: CompileContext): string {
  switch (node.kind) {
    case 'and':
      return `(${compileNode(node.left, context)} AND ${compileNode(node.right, context)})`;
    case 'or':
      return `(${compileNode(node.left, context)} OR ${compileNode(node.right, context)})`;
    case 'not':
      return `(NOT ${compileNode(node.operand, context)})`;
    case 'flag':
      return `(devices.connection_state = ${context.bind('online')})`;
    case 'exists':
      return compileExists(node.field, context);
    case 'compare':
      return compileCompare(node.field, node.operator, node.value, context);
    case 'in':
      return compileIn(node.field, node.values, context);
  }
}

function compileExists(field: Field, context: CompileContext): string {
  const { bind, dialect } = context;
  switch (field.kind) {
    case 'column':
      return field.nullable ? `(devices.${field.column} IS NOT NULL)` : alwaysTrue;
    case 'enum':
    case 'online':
      return alwaysTrue;
    case 'elapsed':
      return field.since === 'offline' ? `(devices.connection_state = ${bind('offline')})` : alwaysTrue;
    case 'telemetry':
      return telemetryCondition(field.metric, () => '', context);
    case 'tag':
      return dialect.tagExists(field.key, bind);
  }
}

function compileCompare(
  field: Field,
  operator: OrderOperator,
  value: QueryValue,
  context: CompileContext,
): string {
  const { bind, dialect } = context;
  switch (field.kind) {
    case 'column':
    case 'enum': {
      const column = `devices.${field.column}`;
      const guard = field.kind === 'column' && field.nullable ? `${column} IS NOT NULL AND ` : '';
      if (value.type === 'version') {
        const key = dialect.versionKey(column);
        return `(${key} IS NOT NULL AND ${key} ${operator} ${dialect.versionValue(value.key, bind)})`;
      }
      return `(${guard}${column} ${operator} ${scalar(value, context)})`;
    }
    case 'elapsed':
      return compileElapsed(field.since, operator, durationOf(value), context);
    case 'telemetry':
      return telemetryCondition(
        field.metric,
        () => ` AND t.${telemetryTable.value} ${operator} ${scalar(value, context)}`,
        context,
      );
    case 'tag':
      return dialect.tagIn(field.key, [textOf(value)], bind);
    case 'online':
      throw new Error('boolean fields are compiled as flags');
  }
}

function compileIn(field: Field, values: readonly QueryValue[], context: CompileContext): string {
  const { bind, dialect } = context;
  if (field.kind === 'tag') return dialect.tagIn(field.key, values.map(textOf), bind);
  const allText = values.every((value) => value.type === 'text');
  if ((field.kind === 'column' || field.kind === 'enum') && allText) {
    const column = `devices.${field.column}`;
    const guard = field.kind === 'column' && field.nullable ? `${column} IS NOT NULL AND ` : '';
    return `(${guard}${column} IN (${values.map((value) => scalar(value, context)).join(', ')}))`;
  }
  return `(${values.map((value) => compileCompare(field, '=', value, context)).join(' OR ')})`;
}

/**
 * `elapsed op d` is `since mirrored(op) now - d`: comparing the stored time keeps the column
 * usable by an index and needs no date arithmetic in SQL.
 */
function compileElapsed(
  since: 'offline' | 'created',
  operator: OrderOperator,
  durationMs: number,
  context: CompileContext,
): string {
  const { bind, dialect } = context;
  const threshold = () => dialect.time(context.nowMs - durationMs, bind);
  const mirrored = mirror[operator];
  if (since === 'created') return `(devices.created_at ${mirrored} ${threshold()})`;
  // Offline since the last sighting; a device never seen counts from when it went offline or was created.
  const reference = 'coalesce(devices.last_seen_at, devices.connection_changed_at, devices.created_at)';
  // Template parts are evaluated left to right, so `?` placeholders are bound in textual order.
  return `(devices.connection_state = ${bind('offline')} AND ${reference} ${mirrored} ${threshold()})`;
}

const mirror: Record<OrderOperator, OrderOperator> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** `extra` adds a condition on `t.value`; it is called after the metric is bound (`?` order is textual). */
function telemetryCondition(metric: string, extra: () => string, context: CompileContext): string {
  const { table, deviceId, metric: metricColumn } = telemetryTable;
  return `EXISTS (SELECT 1 FROM ${table} AS t WHERE t.${deviceId} = devices.id AND t.${metricColumn} = ${context.bind(metric)}${extra()})`;
}

function scalar(value: QueryValue, context: CompileContext): string {
  switch (value.type) {
    case 'text':
      return context.bind(value.value);
    case 'number':
      return context.bind(value.value);
    case 'time':
      return context.dialect.time(value.ms, context.bind);
    case 'duration':
    case 'version':
      throw new Error(`a ${value.type} is not a plain value`);
  }
}

function durationOf(value: QueryValue): number {
  if (value.type !== 'duration') throw new Error('elapsed fields compare with durations');
  return value.ms;
}

function textOf(value: QueryValue): string {
  if (value.type !== 'text') throw new Error('tags compare with text');
  return value.value;
}
