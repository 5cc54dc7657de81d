/**
 * The orchestrator: one `step` per active rollout and tick. Reads everything from the stores,
 * starts the current stage's devices (rate-limited) through the deployment service, decides with
 * the pure state machine and persists the new state and its timeline event by compare-and-set.
 * Nothing is kept in memory between ticks, so a restarted server continues where it stopped.
 */
import type { Logger } from 'pino';
import type { AlertService } from '../../alerts/alert-service.ts';
import type { MaintenanceWindow } from '../../contracts/maintenance-window.ts';
import type { Clock } from '../../infra/clock.ts';
import { ConflictError, FlotillaError, ValidationError } from '../../infra/errors.ts';
import { idBatches } from '../../store/id-batches.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import type { RolloutMember, RolloutRecord, RolloutStore } from '../../store/rollout-types.ts';
import type { DeviceStore } from '../../store/types.ts';
import type { UpdateStore } from '../../store/update-types.ts';
import type { DeploymentService } from '../deployments/deployment-service.ts';
import type { SelectableDevice } from './device-selector.ts';
import { evaluateHealthGate, type TelemetryReader } from './health-observations.ts';
import { groupByWindow, type WindowGroup } from './maintenance-windows.ts';
import { RATE_WINDOW_MS, startAllowance } from './rate-limit.ts';
import { joinLateDevices, type RolloutJoinDeps } from './rollout-joins.ts';
import { memberExecutions, stageView, type StageView } from './rollout-progress.ts';
import { startsDevices } from './rollout-state.ts';
import { applyDecision, decideNext } from './stage-machine.ts';
import type { TimelineEvent } from './timeline.ts';

/** The actor and audit source of what the orchestrator does on its own. */
export const ROLLOUT_ACTOR = 'rollout';

export interface RolloutOrchestratorDeps extends RolloutJoinDeps {
  store: RolloutStore;
  updates: Pick<UpdateStore, 'activeExecutions' | 'executionsOfDeployments'>;
  deployments: Pick<DeploymentService, 'deploy' | 'cancel'>;
  /** Device records: late joins select through them, maintenance windows match them. */
  devices: Pick<DeviceStore, 'getDevice' | 'listDevicesMatching'>;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
  /**
   * Telemetry for the health-regression gate. Absent (a server without telemetry ingest, unit
   * tests of other rules): the gate is not evaluated.
   */
  telemetry?: TelemetryReader;
  /** Raises the alert when a gate pauses a rollout and clears it when the rollout moves on. */
  alerts?: Pick<AlertService, 'raise' | 'clear'>;
}

/** The alert rule of a gate pause; its subject is the rollout. */
export const GATE_PAUSE_RULE = 'rollout.gate-failed';

/**
 * Raises (pause by a gate) or clears (the rollout left the paused state) the rollout's alert.
 * An alert that cannot be written is logged: it must not undo or repeat the state change.
 */
export async function syncRolloutAlert(
  deps: Pick<RolloutOrchestratorDeps, 'alerts' | 'logger'>,
  rollout: RolloutRecord,
): Promise<void> {
  if (deps.alerts === undefined) return;
  const subject = { kind: 'rollout', id: rollout.id } as const;
  const reason = rollout.state.pauseReason;
  try {
    if (rollout.state.status === 'paused' && reason?.kind === 'gate') {
      const { model, version } = rollout.spec.release;
      await deps.alerts.raise({
        rule: GATE_PAUSE_RULE,
        severity: 'critical',
        subject,
        title: `Rollout of ${model} ${version} paused: ${reason.gate} gate failed`,
        detail: reason.message,
        details: {
          gate: reason.gate,
          value: reason.value,
          threshold: reason.threshold,
          stageIndex: rollout.state.stageIndex,
        },
      });
    } else if (rollout.state.status !== 'paused') {
      await deps.alerts.clear(GATE_PAUSE_RULE, subject, `rollout ${rollout.state.status}`);
    }
  } catch (err) {
    deps.logger.error({ err, rolloutId: rollout.id }, 'could not update the rollout alert');
  }
}

/** Every gate of the rollout's current stage at `nowMs`, the health-regression gate included. */
export async function currentGates(
  deps: Pick<RolloutOrchestratorDeps, 'telemetry'>,
  rollout: RolloutRecord,
  members: readonly RolloutMember[],
  executions: Awaited<ReturnType<typeof memberExecutions>>,
  nowMs: number,
): Promise<StageView> {
  const stage = stageView(rollout.spec, members, executions, rollout.state.stageIndex, nowMs);
  if (deps.telemetry === undefined) return stage;
  const health = await evaluateHealthGate(
    deps.telemetry,
    rollout.spec.gates.healthRegression,
    members,
    executions,
    rollout.state.stageIndex,
    nowMs,
  );
  return { ...stage, gates: [...stage.gates, ...health] };
}

export const rolloutOrigin = (rolloutId: string): string => `rollout:${rolloutId}`;

/** Audits a timeline event as `rollout.<kind>`. */
export async function auditEvent(
  audit: RolloutOrchestratorDeps['audit'],
  rolloutId: string,
  event: TimelineEvent,
  source: string,
): Promise<void> {
  await audit.appendAudit({
    atMs: event.atMs,
    actor: event.actor,
    action: `rollout.${event.kind}`,
    target: rolloutId,
    source,
    details: { ...event.details, stageIndex: event.stageIndex, message: event.message },
  });
}

export interface RolloutOrchestratorOptions {
  /** How often an active rollout re-selects the whole registry for late devices (ms). */
  rescanIntervalMs: number;
}

export function createRolloutOrchestrator(
  deps: RolloutOrchestratorDeps,
  options: RolloutOrchestratorOptions,
) {
  const { store, updates, deployments, logger } = deps;

  /**
   * Starts the devices whose turn it is (current stage and any left over from earlier ones),
   * within the rate limit. A device whose active execution already belongs to this rollout was
   * started by a tick that stopped before recording it: recorded now, not deployed twice. A
   * device busy with another deployment waits for a later tick. Active executions are read in
   * batches (id-batches.ts): a bounded number of queries however large the stage.
   */
  async function startDue(
    rollout: RolloutRecord,
    members: readonly RolloutMember[],
    nowMs: number,
  ): Promise<void> {
    const origin = rolloutOrigin(rollout.id);
    const started = members.flatMap((m) => (m.startedAtMs === null ? [] : [m.startedAtMs]));
    let { allowed } = startAllowance(rollout.spec.maxStartsPerMinute, started, nowMs);
    const due = members.flatMap((m) =>
      m.startedAtMs === null && m.stageIndex <= rollout.state.stageIndex ? [m.deviceId] : [],
    );
    const ready: string[] = [];
    for (const batch of idBatches(due)) {
      if (ready.length >= allowed) break;
      const active = await updates.activeExecutions(batch);
      const recovered = new Map<string, { offeredAtMs: number; ids: string[] }>();
      for (const deviceId of batch) {
        if (ready.length >= allowed) break;
        const execution = active.get(deviceId);
        if (execution?.deployment.source === origin) {
          const offeredAtMs = Date.parse(execution.deployment.createdAt);
          const entry = recovered.get(execution.deployment.id);
          if (entry) entry.ids.push(deviceId);
          else recovered.set(execution.deployment.id, { offeredAtMs, ids: [deviceId] });
          // The crashed tick's start used a slot of the minute that `allowed` did not see.
          if (offeredAtMs > nowMs - RATE_WINDOW_MS) allowed -= 1;
        } else if (execution === undefined) ready.push(deviceId);
      }
      for (const [deploymentId, { offeredAtMs, ids }] of recovered)
        await store.markStarted(rollout.id, ids, { deploymentId }, offeredAtMs);
    }
    for (const group of await windowGroups(rollout, ready))
      await deploy(rollout, group.deviceIds, group.window, nowMs);
  }

  /** Adds late devices (rollout-joins.ts); a device taken by another rollout meanwhile waits a tick. */
  async function join(rollout: RolloutRecord, members: readonly RolloutMember[], nowMs: number) {
    try {
      const event = await joinLateDevices(deps, rollout, members, { nowMs, ...options });
      if (event === null) return false;
      await auditEvent(deps.audit, rollout.id, event, ROLLOUT_ACTOR);
      logger.info({ rolloutId: rollout.id, devices: event.details.devices }, event.message);
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      logger.warn({ err: error, rolloutId: rollout.id }, 'late devices not added; retried on the next tick');
      return false;
    }
  }

  /** One group per maintenance window (the window goes with the deployment's offer). */
  async function windowGroups(rollout: RolloutRecord, deviceIds: string[]): Promise<WindowGroup[]> {
    if (deviceIds.length === 0) return [];
    const windows = rollout.spec.maintenanceWindows;
    if (windows.length === 0) return [{ window: null, deviceIds }];
    const records = new Map<string, SelectableDevice>();
    for (const deviceId of deviceIds) {
      const device = await deps.devices.getDevice(deviceId);
      if (device !== undefined) records.set(deviceId, device);
    }
    return groupByWindow(windows, deviceIds, records);
  }

  async function deploy(
    rollout: RolloutRecord,
    deviceIds: string[],
    installWindow: MaintenanceWindow | null,
    nowMs: number,
  ): Promise<void> {
    const { model, version } = rollout.spec.release;
    const request = {
      model,
      version,
      deviceIds,
      installNow: true,
      force: false,
      installWindow,
      replace: false,
    };
    const context = { actor: ROLLOUT_ACTOR, source: ROLLOUT_ACTOR, origin: rolloutOrigin(rollout.id) };
    let skipped: Array<{ deviceId: string; reason: string }>;
    try {
      const result = await deployments.deploy(request, context);
      // Started when the offer was made (the deployment's time, a little after the tick's
      // nowMs): the sliding minute of the rate limit must count the starts devices see.
      const offeredAtMs = Date.parse(result.deployment.createdAt);
      await store.markStarted(
        rollout.id,
        result.offered,
        { deploymentId: result.deployment.id },
        offeredAtMs,
      );
      skipped = result.skipped;
    } catch (error) {
      // Every device already runs the release (or no longer fits it): nothing to offer.
      if (error instanceof ValidationError && Array.isArray(error.details?.skipped))
        skipped = error.details.skipped as typeof skipped;
      else if (error instanceof FlotillaError) {
        // A manual deployment raced us, a device was deleted: retried on the next tick.
        logger.warn({ err: error, rolloutId: rollout.id }, 'could not start rollout devices');
        return;
      } else throw error;
    }
    for (const reason of new Set(skipped.map((s) => s.reason))) {
      const ids = skipped.filter((s) => s.reason === reason).map((s) => s.deviceId);
      await store.markStarted(rollout.id, ids, { deploymentId: null, skipReason: reason }, nowMs);
    }
  }

  /** One orchestration step of one rollout at `nowMs`; returns the rollout as stored after it. */
  async function step(rollout: RolloutRecord, nowMs: number): Promise<RolloutRecord> {
    let members = await store.listMembers(rollout.id);
    if (await join(rollout, members, nowMs)) members = await store.listMembers(rollout.id);
    if (startsDevices(rollout.state)) {
      await startDue(rollout, members, nowMs);
      members = await store.listMembers(rollout.id);
    }
    const executions = await memberExecutions(updates, members);
    const stage = await currentGates(deps, rollout, members, executions, nowMs);
    const decision = decideNext({
      spec: rollout.spec,
      state: rollout.state,
      stageDevices: stage.summary.eligible,
      gates: stage.gates,
      nowMs,
    });
    const { state, event } = applyDecision(rollout.state, decision, nowMs);
    if (event === null) return rollout;
    let updated: RolloutRecord;
    try {
      updated = await store.updateState(rollout.id, rollout.version, state, event, nowMs);
    } catch (error) {
      // An operator (or another server) changed it meanwhile: the next tick decides again.
      if (error instanceof ConflictError) return rollout;
      throw error;
    }
    await auditEvent(deps.audit, rollout.id, event, ROLLOUT_ACTOR);
    await syncRolloutAlert(deps, updated);
    if (decision.action === 'pause')
      logger.warn({ rolloutId: rollout.id, reason: state.pauseReason }, 'rollout paused by a gate');
    else logger.info({ rolloutId: rollout.id, event: event.kind }, event.message);
    return updated;
  }

  return { step };
}

export type RolloutOrchestrator = ReturnType<typeof createRolloutOrchestrator>;
