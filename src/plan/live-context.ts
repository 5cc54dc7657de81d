/**
 * What a running server tells the plan (`--server`, `GET /api/v1/plan`): its own configuration,
 * alert rules and latest rollout's stages replace the planned ones, and the real fleet (size,
 * models, firmware, measured telemetry volume) is reported beside the requirements. Pure.
 */
import type { ServerConfig } from '../config/schema.ts';
import type { AlertRule } from '../alerts/rules/alert-rule.ts';
import type { Gates, Stage } from '../ota/rollouts/rollout-spec.ts';
import type { PlanInput } from './input-schema.ts';

export interface LiveFleet {
  /** Only the devices in the caller's scope (models are then not reported). */
  scoped: boolean;
  devices: number;
  online: number;
  models: Array<{ model: string; devices: number }>;
  firmware: Array<{ version: string | null; devices: number }>;
  /** Devices on their model's newest release, in % (null: no model has a release). */
  currentPct: number | null;
}

export interface LiveTelemetry {
  /** Seconds the server has been counting (since it started). */
  measuredOverS: number;
  storedBatches: number;
  acceptedRecords: number;
}

export interface LiveContext {
  server: ServerConfig;
  alertRules: AlertRule[];
  /** The newest rollout's stages and gates, when there is one. */
  rollout: { id: string; stages: Stage[]; gates: Gates } | null;
  fleet: LiveFleet;
  /** null for a device-scoped caller: the counters are fleet-wide. */
  telemetry: LiveTelemetry | null;
}

/** The input with the live configuration in place of the planned one, and the real fleet size. */
export function withLiveContext(input: PlanInput, live: LiveContext): PlanInput {
  const rollouts = live.rollout
    ? { stages: live.rollout.stages, gates: live.rollout.gates }
    : input.configuration.rollouts;
  return {
    ...input,
    fleet: {
      ...input.fleet,
      devicesNow: live.fleet.devices > 0 ? live.fleet.devices : input.fleet.devicesNow,
      models: live.fleet.models.length > 0 ? live.fleet.models.map((m) => m.model) : input.fleet.models,
    },
    configuration: { ...input.configuration, server: live.server, alertRules: live.alertRules, rollouts },
  };
}

/** Measured telemetry per device per day (over the devices now registered); null before any, or unknown. */
export function measuredPerDevicePerDay(live: LiveContext): { batches: number; records: number } | null {
  const t = live.telemetry;
  if (t === null || live.fleet.devices === 0 || t.measuredOverS <= 0 || t.storedBatches === 0) return null;
  const scale = 86_400 / t.measuredOverS / live.fleet.devices;
  return { batches: t.storedBatches * scale, records: t.acceptedRecords * scale };
}
