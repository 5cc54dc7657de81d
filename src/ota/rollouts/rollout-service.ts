/**
 * Rollouts as a service: create (plan cohorts over the devices the selector matches), operator
 * actions, show, and `tick`, which runs one orchestration step per active rollout. Every action
 * is audited with its actor. Rules: docs/rollouts.md.
 */
import { randomBytes } from 'node:crypto';
import { NotFoundError, ValidationError } from '../../infra/errors.ts';
import { KeyedSerialQueue } from '../../infra/keyed-queue.ts';
import type { Release } from '../../store/release-types.ts';
import type { RolloutMember, RolloutRecord } from '../../store/rollout-types.ts';
import type { ExecutionState } from '../../store/update-types.ts';
import { planDevices, type DevicePlan } from '../deployments/deployment-plan.ts';
import { planCohorts } from './cohorts.ts';
import { applyOperatorAction, type OperatorRequest } from './operator-actions.ts';
import {
  auditEvent,
  createRolloutOrchestrator,
  currentGates,
  syncRolloutAlert,
  type RolloutOrchestratorDeps,
} from './rollout-orchestrator.ts';
import { memberExecutions, stageView, type StageView } from './rollout-progress.ts';
import { rolloutSelection } from './rollout-selection.ts';
import { parseRolloutSpec, type RolloutSelector } from './rollout-spec.ts';
import { initialRolloutState } from './rollout-state.ts';
import { createdEvent, type TimelineEvent } from './timeline.ts';

export type RolloutServiceDeps = RolloutOrchestratorDeps;

export interface RolloutServiceOptions {
  /** How often an active rollout re-selects the whole registry for late devices (ms; default 600 s). */
  rescanIntervalMs?: number;
}

export const DEFAULT_RESCAN_INTERVAL_MS = 600_000;

export interface CreatedRollout {
  rollout: RolloutRecord;
  /** Devices per stage. */
  stageSizes: number[];
  /** Devices the selector matched that the rollout leaves out, and why. */
  excluded: DevicePlan['skipped'];
}

export interface RolloutDryRun {
  /** Devices of the release's model the selector matches. */
  matched: number;
  /** Devices the rollout would update. */
  devices: number;
  stageSizes: number[];
  /** The first devices it would update (by id), at most DRY_RUN_SAMPLE. */
  sample: string[];
  excluded: DevicePlan['skipped'];
}

export const DRY_RUN_SAMPLE = 20;

export interface RolloutView {
  rollout: RolloutRecord;
  /** Per stage; `gates` of the current stage are what the orchestrator decides on. */
  stages: Array<StageView & { current: boolean }>;
  /** Devices per execution state across the rollout (`not-started` and `skipped` included). */
  devices: Partial<Record<ExecutionState | 'not-started' | 'skipped', number>>;
  timeline: TimelineEvent[];
}

const pageSize = 1000;
const AUDIT_SOURCE = 'rollouts';

/** Ids sort by creation time, with a random tail. */
function newRolloutId(atMs: number): string {
  return `ro-${atMs.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

export function createRolloutService(deps: RolloutServiceDeps, options: RolloutServiceOptions = {}) {
  const { store, clock, logger } = deps;
  const orchestrator = createRolloutOrchestrator(deps, {
    rescanIntervalMs: options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS,
  });
  // Ticks and operator actions on one rollout run one after another in this process; the
  // store's compare-and-set covers other processes.
  const queue = new KeyedSerialQueue();

  /**
   * The selector's devices of the release's model, selected in SQL page by page and split by
   * `planDevices` as they come: only ids are kept, so a million devices fit in memory.
   */
  async function planTargets(
    selector: RolloutSelector,
    release: Release,
  ): Promise<{ matched: number; offer: string[]; skipped: DevicePlan['skipped'] }> {
    const selected = await rolloutSelection(selector, deps.fleetQueries, clock.now());
    const selection = { ...selected, hardwareModel: release.hardwareModel };
    const result = { matched: 0, offer: [] as string[], skipped: [] as DevicePlan['skipped'] };
    let cursor: string | undefined;
    do {
      const page = await deps.devices.listDevicesMatching(selection, {
        limit: pageSize,
        ...(cursor ? { cursor } : {}),
      });
      const plan = planDevices(release, page.items, false);
      result.matched += page.items.length;
      for (const id of plan.offer) result.offer.push(id);
      for (const skipped of plan.skipped) result.skipped.push(skipped);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return result;
  }

  /** The checked spec and its targets. ValidationError: bad spec, unknown release, no device to update. */
  async function prepare(specInput: unknown) {
    const spec = parseRolloutSpec(specInput);
    const { model, version } = spec.release;
    const release = await deps.releases.getRelease(model, version);
    if (!release) throw new ValidationError(`release ${model}@${version} not found`, { model, version });
    // The release's model restricts the selector, as for deployments.
    const plan = await planTargets(spec.selector, release);
    if (plan.matched === 0)
      throw new ValidationError(`the selector matches no ${model} device`, { selector: spec.selector });
    if (plan.offer.length === 0)
      throw new ValidationError(`none of the ${plan.matched} matched devices can take ${release.id}`, {
        excluded: plan.skipped,
      });
    return { spec, plan };
  }

  async function get(id: string): Promise<RolloutRecord> {
    const rollout = await store.getRollout(id);
    if (!rollout) throw new NotFoundError(`rollout ${id} not found`, { id });
    return rollout;
  }

  /** Applies an operator action; cancel also withdraws the offers no device has started on. */
  async function act(id: string, request: OperatorRequest): Promise<RolloutRecord> {
    return queue.run(id, async () => {
      const rollout = await get(id);
      const nowMs = clock.now();
      const { state, event } = applyOperatorAction(rollout.state, request, nowMs);
      const updated = await store.updateState(id, rollout.version, state, event, nowMs);
      await auditEvent(deps.audit, id, event, AUDIT_SOURCE);
      await syncRolloutAlert(deps, updated);
      if (request.action === 'cancel') await withdrawOffers(id, request.actor);
      return updated;
    });
  }

  /**
   * Cancels the rollout's deployments none of whose devices has begun downloading or installing.
   * A deployment is cancelled as a whole, so one with a device mid-update is left to finish:
   * interrupting an install is riskier than completing it.
   */
  async function withdrawOffers(id: string, actor: string): Promise<void> {
    const members = await store.listMembers(id);
    const executions = await memberExecutions(deps.updates, members);
    const busy = new Set<string>();
    const all = new Set<string>();
    for (const execution of executions.values()) {
      all.add(execution.deploymentId);
      if (!['offered', 'success', 'failed', 'rolled-back', 'cancelled'].includes(execution.state))
        busy.add(execution.deploymentId);
    }
    for (const deploymentId of all)
      if (!busy.has(deploymentId))
        await deps.deployments.cancel(deploymentId, { actor, source: AUDIT_SOURCE });
  }

  return {
    /**
     * Plans and stores a rollout. ValidationError: bad spec, unknown release, selector matching
     * no device that could take the release (the excluded devices are listed). ConflictError: a
     * device is in another active rollout.
     */
    async create(specInput: unknown, actor: string): Promise<CreatedRollout> {
      const { spec, plan } = await prepare(specInput);
      const nowMs = clock.now();
      const id = newRolloutId(nowMs);
      const cohorts = planCohorts(id, plan.offer, spec.stages);
      const event = createdEvent(actor, nowMs, { devices: plan.offer.length, excluded: plan.skipped.length });
      const rollout = await store.createRollout(
        {
          id,
          spec,
          state: initialRolloutState(nowMs),
          createdBy: actor,
          devices: [...cohorts.stageOf].map(([deviceId, stageIndex]) => ({ deviceId, stageIndex })),
          event,
        },
        nowMs,
      );
      await auditEvent(deps.audit, id, event, AUDIT_SOURCE);
      logger.info({ rolloutId: id, devices: plan.offer.length }, 'rollout created');
      return { rollout, stageSizes: cohorts.stages.map((ids) => ids.length), excluded: plan.skipped };
    },

    /**
     * A dry run of `create`: which devices the rollout would take and how its stages would split,
     * with nothing stored. The same ValidationErrors as create.
     */
    async dryRun(specInput: unknown): Promise<RolloutDryRun> {
      const { spec, plan } = await prepare(specInput);
      // Percent stages place devices by a hash of rollout id and device id: the created rollout's
      // split differs from this stand-in's by hash noise (a few % of a stage), counts not at all.
      const cohorts = planCohorts('dry-run', plan.offer, spec.stages);
      return {
        matched: plan.matched,
        devices: plan.offer.length,
        stageSizes: cohorts.stages.map((ids) => ids.length),
        sample: plan.offer.slice(0, DRY_RUN_SAMPLE),
        excluded: plan.skipped,
      };
    },

    pause: (id: string, actor: string, note?: string) =>
      act(id, { action: 'pause', actor, ...(note ? { note } : {}) }),
    resume: (id: string, actor: string, note?: string) =>
      act(id, { action: 'resume', actor, ...(note ? { note } : {}) }),
    approve: (id: string, actor: string, note?: string) =>
      act(id, { action: 'approve', actor, ...(note ? { note } : {}) }),
    cancel: (id: string, actor: string, note?: string) =>
      act(id, { action: 'cancel', actor, ...(note ? { note } : {}) }),

    /** Rollouts, newest first. */
    list: (limit: number) => store.listRollouts(limit),

    /** Everything about one rollout at the clock's now. NotFoundError. */
    async show(id: string): Promise<RolloutView> {
      const rollout = await get(id);
      const nowMs = clock.now();
      const members = await store.listMembers(id);
      const executions = await memberExecutions(deps.updates, members);
      const current = await currentGates(deps, rollout, members, executions, nowMs);
      const stages = rollout.spec.stages.map((_, index) => ({
        ...(index === rollout.state.stageIndex
          ? current
          : stageView(rollout.spec, members, executions, index, nowMs)),
        current: index === rollout.state.stageIndex,
      }));
      return {
        rollout,
        stages,
        devices: deviceCounts(members, executions),
        timeline: await store.listTimeline(id),
      };
    },

    /** One orchestration step per active rollout; a failing rollout does not stop the others. */
    async tick(nowMs: number): Promise<void> {
      for (const active of await store.listActiveRollouts()) {
        await queue
          .run(active.id, async () => {
            // Re-read inside the queue: an operator action may have changed it meanwhile.
            const rollout = await store.getRollout(active.id);
            if (rollout) await orchestrator.step(rollout, nowMs);
          })
          .catch((err: unknown) => logger.error({ err, rolloutId: active.id }, 'rollout step failed'));
      }
    },

    /** Waits for the ticks and actions in flight. */
    drain: () => queue.drain(),
  };
}

export type RolloutService = ReturnType<typeof createRolloutService>;

function deviceCounts(
  members: readonly RolloutMember[],
  executions: ReadonlyMap<string, { deploymentId: string; state: ExecutionState }>,
): RolloutView['devices'] {
  const counts: RolloutView['devices'] = {};
  for (const member of members) {
    const execution = executions.get(member.deviceId);
    const key =
      member.skipReason !== null
        ? 'skipped'
        : execution !== undefined && execution.deploymentId === member.deploymentId
          ? execution.state
          : 'not-started';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
