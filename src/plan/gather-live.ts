/**
 * Reads a running server's side of the plan: its config, alert rules, newest rollout, fleet
 * summary, models and the telemetry it stored since it started. Every source is passed in.
 */
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/schema.ts';
import type { Clock } from '../infra/clock.ts';
import type { FleetMetricsSummary } from '../fleet-metrics/fleet-summary.ts';
import type { StoredAlertRule } from '../store/alert-rule-types.ts';
import type { FactorCount } from '../store/anomaly-types.ts';
import type { RolloutRecord } from '../store/rollout-types.ts';
import type { LiveContext } from './live-context.ts';

export interface LiveSources {
  config: ServerConfig;
  clock: Clock;
  /** When the server started counting telemetry (its start), in ms. */
  startedAtMs: number;
  listRules(): Promise<StoredAlertRule[]>;
  listRollouts(limit: number): Promise<RolloutRecord[]>;
  /** The fleet summary, of the devices a fleet query matches when `where` is given. */
  fleetSummary(where?: string): Promise<FleetMetricsSummary>;
  modelCounts(): Promise<FactorCount[]>;
  metrics: Registry;
}

/** Sum of a counter's values whose label matches. */
async function counterSum(registry: Registry, name: string, label: string, value: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const data = await metric.get();
  return data.values.filter((v) => v.labels[label] === value).reduce((sum, v) => sum + v.value, 0);
}

/**
 * The live context; `where` is the caller's device scope (a fleet query): the fleet is then only
 * the devices in it, and fleet-wide figures that cannot be narrowed (models, telemetry counters)
 * are left out rather than leaked.
 */
export async function gatherLiveContext(sources: LiveSources, where?: string): Promise<LiveContext> {
  const scoped = where !== undefined;
  const [rules, rollouts, summary, models] = await Promise.all([
    sources.listRules(),
    sources.listRollouts(1),
    sources.fleetSummary(where),
    scoped ? Promise.resolve([]) : sources.modelCounts(),
  ]);
  const newest = rollouts[0];
  return {
    server: sources.config,
    alertRules: rules.map((r) => r.rule),
    rollout: newest ? { id: newest.id, stages: newest.spec.stages, gates: newest.spec.gates } : null,
    fleet: {
      scoped,
      devices: summary.devices.total,
      online: summary.devices.online,
      models: models.map((m) => ({ model: m.value, devices: m.total })),
      firmware: summary.firmware.versions,
      currentPct: summary.firmware.currentPct,
    },
    telemetry: scoped
      ? null
      : {
          measuredOverS: Math.max(0, (sources.clock.now() - sources.startedAtMs) / 1000),
          storedBatches: await counterSum(
            sources.metrics,
            'flotilla_telemetry_batches_total',
            'outcome',
            'stored',
          ),
          acceptedRecords: await counterSum(
            sources.metrics,
            'flotilla_telemetry_records_total',
            'result',
            'accepted',
          ),
        },
  };
}
