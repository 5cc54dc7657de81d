/**
 * Builds a plan from the validated input, the benchmark figures and (optionally) a live server's
 * context: decisions, per-device traffic, costs at four fleet sizes, quality checks, findings.
 * Pure: no clock (the caller passes `generatedAtMs` or leaves it out), no I/O.
 */
import type { BenchmarkFigures } from './benchmarks.ts';
import { costTable, type CostTable } from './cost-model.ts';
import type { Decision, Finding } from './findings.ts';
import type { PlanInput } from './input-schema.ts';
import { linkProfile } from './link.ts';
import { monitoringFindings } from './monitoring-findings.ts';
import { withLiveContext, type LiveContext } from './live-context.ts';
import { planOta, type OtaPlan } from './ota-decisions.ts';
import { resolvePrices, type PriceTable } from './prices.ts';
import { runQualityChecks, type QualityCheck } from './quality-checks.ts';
import { planTelemetry, type TelemetryPlan } from './telemetry-plan.ts';
import { deviceTraffic, type DeviceTraffic } from './traffic.ts';

export interface Plan {
  input: PlanInput;
  bench: BenchmarkFigures;
  /** The benchmark file the figures came from, as the caller names it. */
  benchFile: string;
  prices: PriceTable;
  overriddenPrices: ReadonlySet<keyof PriceTable>;
  ota: OtaPlan;
  telemetry: TelemetryPlan;
  traffic: DeviceTraffic;
  costs: CostTable;
  checks: QualityCheck[];
  decisions: Decision[];
  findings: Finding[];
  live: LiveContext | null;
  /** Live server URL when there is one, for the document. */
  liveSource: string | null;
  generatedAtMs: number | null;
}

export interface BuildPlanOptions {
  bench: BenchmarkFigures;
  benchFile: string;
  live?: { context: LiveContext; source: string };
  generatedAtMs?: number;
}

export function buildPlan(requested: PlanInput, options: BuildPlanOptions): Plan {
  const input = options.live ? withLiveContext(requested, options.live.context) : requested;
  const link = linkProfile(input);
  const ota = planOta(input, link, options.bench);
  const telemetry = planTelemetry(input, link);
  const traffic = deviceTraffic(input, telemetry, options.bench, ota.downloadFraction);
  const { prices, overridden } = resolvePrices(input.prices);
  const costs = costTable({
    traffic,
    bench: options.bench,
    prices,
    store: input.configuration.server.store.kind,
    peakFactor: input.peakFactor,
  });
  const checks = runQualityChecks({ input, ota, telemetry, costs });
  const findings = [
    ...ota.findings,
    ...telemetry.findings,
    ...heartbeatFindings(input, traffic),
    ...monitoringFindings(input),
    ...fleetFindings(input, costs),
  ];
  return {
    input,
    bench: options.bench,
    benchFile: options.benchFile,
    prices,
    overriddenPrices: overridden,
    ota,
    telemetry,
    traffic,
    costs,
    checks,
    decisions: [...ota.decisions, ...telemetry.decisions],
    findings,
    live: options.live?.context ?? null,
    liveSource: options.live?.source ?? null,
    generatedAtMs: options.generatedAtMs ?? null,
  };
}

/** On a metered link, heartbeats that cost more than a quarter of the upstream bytes are worth stretching. */
function heartbeatFindings(input: PlanInput, traffic: DeviceTraffic): Finding[] {
  const share = traffic.heartbeatBytesPerDay / traffic.upstreamBytesPerDay;
  if (input.hardware.connectivity.dataCostPerMiB === 0 || !(share > 0.25)) return [];
  return [
    {
      severity: 'warning',
      field: 'configuration.agent.heartbeatIntervalS',
      message: `heartbeats every ${input.configuration.agent.heartbeatIntervalS} s are ${Math.round(share * 100)} % of the bytes a device sends on a metered link; the session's keepalive already notices a lost device, so a longer interval (e.g. 900 s) is cheaper`,
    },
  ];
}

function fleetFindings(input: PlanInput, costs: CostTable): Finding[] {
  const findings: Finding[] = [];
  if (input.fleet.devicesProjected < input.fleet.devicesNow)
    findings.push({
      severity: 'warning',
      field: 'fleet.devicesProjected',
      message: `the projection (${input.fleet.devicesProjected}) is below the fleet now (${input.fleet.devicesNow})`,
    });
  const target = input.fleet.devicesProjected;
  const row = costs.selfHosted.find((r) => r.devices >= target) ?? costs.selfHosted.at(-1);
  if (row?.overStoreCeiling)
    findings.push({
      severity: 'error',
      field: 'configuration.server.store.kind',
      message: `SQLite (one writer) cannot take the projected fleet's peak telemetry (${Math.round(row.peakBatchesPerS)} batches/s); use PostgreSQL`,
    });
  const residency = input.regulatory.dataResidency;
  if (residency !== undefined)
    findings.push({
      severity: 'warning',
      field: 'regulatory.dataResidency',
      message: `data must stay in "${residency}": run the server, its database and the archive there, and price the managed services in that region (the price table is us-east-1 / East US)`,
    });
  const auditDays = input.regulatory.auditRetentionDays;
  if (auditDays !== undefined && auditDays > input.configuration.server.telemetry.retentionDays.events)
    findings.push({
      severity: 'warning',
      field: 'regulatory.auditRetentionDays',
      message: `audit must be kept ${auditDays} days but telemetry events (boots, update statuses) are kept ${input.configuration.server.telemetry.retentionDays.events}; raise telemetry.retentionDays.events or rely on the archive (the audit log itself is never deleted)`,
    });
  return findings;
}
