/**
 * Record-level rules of ingest: what needs the server's clock and configuration. Each refuses only
 * the record it concerns (a window for timestamps, one metric of a window for ranges and names, an
 * event), never the rest of the batch. Pure: time and the device's known names are inputs.
 *
 * Metric names are one namespace per device: a name of `healthMetrics` is range-checked whatever
 * the window's kind, and only other names count towards `maxAppMetricsPerDevice`.
 */
import {
  healthMetrics,
  type RecordRejection,
  type TelemetryBatch,
  type TelemetryEvent,
} from '../contracts/telemetry-messages.ts';
import type { TelemetryConfig } from '../config/schema.ts';
import type { WindowRow } from '../store/telemetry-types.ts';
import { DAY_MS } from './rollups.ts';

export type RecordRuleSettings = Pick<
  TelemetryConfig,
  'maxClockSkewS' | 'maxAppMetricsPerDevice' | 'retentionDays'
>;

export interface RecordRejectionEntry {
  path: string;
  reason: RecordRejection;
  message: string;
  /** Records the entry stands for (a refused window: each of its metrics). */
  records: number;
}

export interface CheckedBatch {
  windows: WindowRow[];
  events: TelemetryEvent[];
  /** Records kept: window metrics plus events. */
  accepted: number;
  /** Records refused (a refused window counts each of its metrics). */
  rejectedRecords: number;
  rejected: RecordRejectionEntry[];
  /** Application metric names this batch adds to the device's known set. */
  newAppMetricNames: string[];
}

export interface RuleContext {
  nowMs: number;
  settings: RecordRuleSettings;
  /** Application metric names the device has used before. */
  knownAppMetricNames: ReadonlySet<string>;
}

function isHealthMetric(name: string): name is keyof typeof healthMetrics {
  return Object.hasOwn(healthMetrics, name);
}

/** Why a record stamped `atMs` (or a window [startMs, endMs)) is refused on time, if it is. */
function timeRefusal(
  startMs: number,
  endMs: number,
  retentionDays: number,
  context: RuleContext,
): { reason: RecordRejection; message: string } | undefined {
  const latestMs = context.nowMs + context.settings.maxClockSkewS * 1000;
  if (endMs > latestMs)
    return {
      reason: 'timestamp_future',
      message: `${new Date(endMs).toISOString()} is more than ${context.settings.maxClockSkewS} s ahead of the server clock`,
    };
  const oldestMs = context.nowMs - retentionDays * DAY_MS;
  if (startMs < oldestMs)
    return {
      reason: 'timestamp_past',
      message: `${new Date(startMs).toISOString()} is older than the ${retentionDays}-day retention`,
    };
  return undefined;
}

export function applyRecordRules(batch: TelemetryBatch, context: RuleContext): CheckedBatch {
  const { settings } = context;
  const out: CheckedBatch = {
    windows: [],
    events: [],
    accepted: 0,
    rejectedRecords: 0,
    rejected: [],
    newAppMetricNames: [],
  };
  const added = new Set<string>();
  const refuse = (path: string, reason: RecordRejection, message: string, records: number) => {
    out.rejected.push({ path, reason, message, records });
    out.rejectedRecords += records;
  };

  batch.windows.forEach((window, i) => {
    const retention =
      window.kind === 'health' ? settings.retentionDays.healthRaw : settings.retentionDays.appRaw;
    const names = Object.keys(window.values);
    const late = timeRefusal(window.startMs, window.endMs, retention, context);
    if (late) return refuse(`windows.${i}`, late.reason, late.message, names.length);
    for (const [metric, aggregate] of Object.entries(window.values)) {
      const path = `windows.${i}.values.${metric}`;
      if (isHealthMetric(metric)) {
        const range = healthMetrics[metric];
        if (aggregate.min < range.min || aggregate.max > range.max) {
          refuse(path, 'out_of_range', `${metric} must lie in [${range.min}, ${range.max}] ${range.unit}`, 1);
          continue;
        }
      } else if (!context.knownAppMetricNames.has(metric) && !added.has(metric)) {
        if (context.knownAppMetricNames.size + added.size >= settings.maxAppMetricsPerDevice) {
          refuse(
            path,
            'too_many_metrics',
            `the device already uses ${settings.maxAppMetricsPerDevice} application metric names`,
            1,
          );
          continue;
        }
        added.add(metric);
      }
      out.windows.push({
        kind: window.kind,
        metric,
        startMs: window.startMs,
        endMs: window.endMs,
        ...aggregate,
      });
      out.accepted += 1;
    }
  });

  batch.events.forEach((event, i) => {
    const late = timeRefusal(event.atMs, event.atMs, settings.retentionDays.events, context);
    if (late) return refuse(`events.${i}`, late.reason, late.message, 1);
    out.events.push(event);
    out.accepted += 1;
  });

  out.newAppMetricNames = [...added];
  return out;
}
