/**
 * The orchestrator: one `step` per active rollout and tick. Reads everything from the stores,
 * starts the current stage's devices (rate-limited) through the deployment service, decides with
 * the pure state machine and persists the new state and its timeline event by compare-and-set.
 * Nothing is kept in memory between ticks, so a restarted server continues where it stopped.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import { ConflictError, FlotillaError, ValidationError } from '../../infra/errors.ts';
import { idBatches } from '../../store/id-batches.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import type { RolloutMember, RolloutRecord, RolloutStore } from '../../store/rollout-types.ts';
import type { UpdateStore } from '../../store/update-types.ts';
import type { DeploymentService } from '../deployments/deployment-service.ts';
import { startAllowance } from './rate-limit.ts';
import { joinLateDevices, type RolloutJoinDeps } from './rollout-joins.ts';
import { memberExecutions, stageView } from './rollout-progress.ts';
import { startsDevices } from './rollout-state.ts';
import { applyDecision, decideNext } from './stage-machine.ts';
import type { TimelineEvent } from './timeline.ts';

/** The actor and audit source of what the orchestrator does on its own. */
export const ROLLOUT_ACTOR = 'rollout';

export interface RolloutOrchestratorDeps extends RolloutJoinDeps {
  store: RolloutStore;
  updates: Pick<UpdateStore, 'activeExecutions' | 'executionsOfDeployments'>;
  deployments: Pick<DeploymentService, 'deploy' | 'cancel'>;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
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
    const { allowed } = startAllowance(rollout.spec.maxStartsPerMinute, started, nowMs);
    const due = members.flatMap((m) =>
      m.startedAtMs === null && m.stageIndex <= rollout.state.stageIndex ? [m.deviceId] : [],
    );
    const ready: string[] = [];
    for (const batch of idBatches(due)) {
      if (ready.length >= allowed) break;
      const active = await updates.activeExecutions(batch);
      const recovered = new Map<string, string[]>();
      for (const deviceId of batch) {
        if (ready.length >= allowed) break;
        const execution = active.get(deviceId);
        if (execution?.deployment.source === origin) {
          const ids = recovered.get(execution.deployment.id);
          if (ids) ids.push(deviceId);
          else recovered.set(execution.deployment.id, [deviceId]);
        } else if (execution === undefined) ready.push(deviceId);
      }
      for (const [deploymentId, ids] of recovered)
        await store.markStarted(rollout.id, ids, { deploymentId }, nowMs);
    }
    if (ready.length > 0) await deploy(rollout, ready, nowMs);
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

  async function deploy(rollout: RolloutRecord, deviceIds: string[], nowMs: number): Promise<void> {
    const { model, version } = rollout.spec.release;
    const request = { model, version, deviceIds, installNow: true, force: false, replace: false };
    const context = { actor: ROLLOUT_ACTOR, source: ROLLOUT_ACTOR, origin: rolloutOrigin(rollout.id) };
    let skipped: Array<{ deviceId: string; reason: string }>;
    try {
      const result = await deployments.deploy(request, context);
      await store.markStarted(rollout.id, result.offered, { deploymentId: result.deployment.id }, nowMs);
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
    const stage = stageView(rollout.spec, members, executions, rollout.state.stageIndex, nowMs);
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
    if (decision.action === 'pause')
      logger.warn({ rolloutId: rollout.id, reason: state.pauseReason }, 'rollout paused by a gate');
    else logger.info({ rolloutId: rollout.id, event: event.kind }, event.message);
    return updated;
  }

  return { step };
}

export type RolloutOrchestrator = ReturnType<typeof createRolloutOrchestrator>;
