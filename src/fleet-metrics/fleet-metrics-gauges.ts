/**
 * Fleet metrics on /metrics. The summary costs a few aggregate queries per scope, so it is
 * computed on an interval (`fleetMetrics.refreshIntervalS`) for the fleet and each saved group and
 * scrapes read the cached values. Per-group series carry a `group` label (saved groups only, at
 * most `maxGroups`: bounded cardinality); the fleet's series have none.
 */
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Timers } from '../infra/timers.ts';
import type { FleetMetricsService } from './fleet-metrics-service.ts';
import type { FleetMetricsSummary } from './fleet-summary.ts';

export interface FleetGaugesDeps {
  registry: Registry;
  service: Pick<FleetMetricsService, 'summary' | 'listGroups'>;
  timers: Timers;
  logger: Logger;
}

export interface FleetGaugesOptions {
  refreshIntervalMs: number;
  /** Saved groups summarised at most (by name). */
  maxGroups: number;
  /** Firmware versions exported at most (most common); the rest are `other`. */
  maxVersions: number;
}

interface Snapshot {
  fleet: FleetMetricsSummary;
  groups: Array<[string, FleetMetricsSummary]>;
}

export interface FleetGauges {
  /** Recomputes the cached summaries now. */
  refresh(): Promise<void>;
  /** Stops the interval and waits for a refresh in flight. */
  stop(): Promise<void>;
}

export function startFleetGauges(deps: FleetGaugesDeps, options: FleetGaugesOptions): FleetGauges {
  let snapshot: Snapshot | undefined;
  const scopes = (): Array<[Record<string, string>, FleetMetricsSummary]> =>
    snapshot === undefined
      ? []
      : [
          [{}, snapshot.fleet],
          ...snapshot.groups.map(([group, s]): [Record<string, string>, FleetMetricsSummary] => [
            { group },
            s,
          ]),
        ];
  registerGauges(deps.registry, scopes, () => snapshot?.fleet, options.maxVersions);

  const refresh = async (): Promise<void> => {
    const fleet = await deps.service.summary();
    const groups: Array<[string, FleetMetricsSummary]> = [];
    for (const group of (await deps.service.listGroups()).slice(0, options.maxGroups)) {
      try {
        groups.push([group.name, await deps.service.summary({ group: group.name })]);
      } catch (err) {
        deps.logger.warn({ err, group: group.name }, 'fleet metrics: group left out');
      }
    }
    snapshot = { fleet, groups };
  };
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running !== undefined) return;
    running = refresh()
      .catch((err: unknown) => deps.logger.error({ err }, 'fleet metrics refresh failed'))
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const handle = deps.timers.setInterval(tick, options.refreshIntervalMs);
  return {
    refresh,
    async stop() {
      deps.timers.clearInterval(handle);
      await running;
    },
  };
}

type Scopes = () => Array<[Record<string, string>, FleetMetricsSummary]>;

function registerGauges(
  registry: Registry,
  scopes: Scopes,
  fleet: () => FleetMetricsSummary | undefined,
  maxVersions: number,
): void {
  const perScope = (name: string, help: string, value: (s: FleetMetricsSummary) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['group'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, summary] of scopes()) {
          const v = value(summary);
          if (v !== null) this.set(labels, v);
        }
      },
    });
  };
  const ratio = (pct: number | null): number | null => (pct === null ? null : pct / 100);
  perScope('flotilla_fleet_online_ratio', 'Share of devices online (0-1)', (s) => ratio(s.devices.onlinePct));
  perScope(
    'flotilla_fleet_firmware_current_ratio',
    "Share of devices (whose model has a release) running their model's newest release (0-1)",
    (s) => ratio(s.firmware.currentPct),
  );
  perScope(
    'flotilla_fleet_error_rate',
    'Errors per telemetry sample over the last one to two hours (hourly rollups)',
    (s) => ratio(s.errorRate.pct),
  );
  for (const [name, pick, help] of [
    [
      'flotilla_fleet_battery_devices',
      (s: FleetMetricsSummary) => s.battery,
      'Devices by latest battery level (%)',
    ],
    [
      'flotilla_fleet_signal_devices',
      (s: FleetMetricsSummary) => s.signal,
      'Devices by latest signal strength (dBm)',
    ],
  ] as const) {
    new Gauge({
      name,
      help,
      labelNames: ['group', 'bucket'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, summary] of scopes())
          for (const { bucket, devices } of pick(summary)) this.set({ ...labels, bucket }, devices);
      },
    });
  }
  new Gauge({
    name: 'flotilla_fleet_firmware_devices',
    help: 'Devices by reported firmware version (most common versions; the rest as other)',
    labelNames: ['version'],
    registers: [registry],
    collect() {
      this.reset();
      const summary = fleet();
      if (summary === undefined) return;
      const shown = summary.firmware.versions.slice(0, maxVersions);
      for (const { version, devices } of shown) this.set({ version: version ?? 'unknown' }, devices);
      const other = summary.devices.total - shown.reduce((sum, row) => sum + row.devices, 0);
      if (other > 0) this.set({ version: 'other' }, other);
    },
  });
}
