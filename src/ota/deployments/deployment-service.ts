/**
 * Firmware deployments: who should install which release. Creates assignments (one active per
 * device), pushes the offer to each device on its retained `update/notify` topic, answers pulls
 * (`offerFor`), and applies the devices' status reports. Rollouts (issue 5) create their
 * deployments through `deploy` with `origin: rollout:<id>`.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { maintenanceWindowSchema } from '../../contracts/maintenance-window.ts';
import {
  refusedStatusOutcomes,
  type UpdateNotify,
  type UpdateStatus,
  type UpdateStatusResponse,
} from '../../contracts/update-messages.ts';
import type { Device } from '../../contracts/device.ts';
import { DEVICE_ID_PATTERN } from '../../contracts/topics.ts';
import { isoTime, type Clock } from '../../infra/clock.ts';
import { NotFoundError, ValidationError } from '../../infra/errors.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import type { ReleaseStore } from '../../store/release-types.ts';
import type { DeviceStore, Page, PageRequest } from '../../store/types.ts';
import type {
  ActiveAssignment,
  Deployment,
  ExecutionState,
  UpdateExecution,
  UpdateHistoryEntry,
  UpdateStore,
} from '../../store/update-types.ts';
import { TargetNameSchema } from '../../signing/tuf/target-custom.ts';
import { notifyFor, planDevices, releaseTargetName, type DevicePlan } from './deployment-plan.ts';

export const deployRequestSchema = z.strictObject({
  model: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
  /** Default: every device of the model. */
  deviceIds: z.array(z.string().regex(DEVICE_ID_PATTERN)).min(1).max(10_000).optional(),
  installNow: z.boolean().default(true),
  force: z.boolean().default(false),
  /** Devices install only while this window is open (they download at once); null: any time. */
  installWindow: maintenanceWindowSchema.nullable().default(null),
  /** Take devices away from their active deployment instead of refusing them. */
  replace: z.boolean().default(false),
});
export type DeployRequest = z.output<typeof deployRequestSchema>;

export interface DeployContext {
  actor: string;
  source: string;
  /** `manual` (default) or `rollout:<id>`. */
  origin?: string;
}

export interface DeployResult {
  deployment: Deployment;
  offered: string[];
  skipped: DevicePlan['skipped'];
  replaced: ActiveAssignment[];
}

export interface DeploymentSummary {
  deployment: Deployment;
  counts: Partial<Record<ExecutionState, number>>;
  devices: Page<UpdateExecution & { firmwareVersion: string | null }>;
}

export interface DeploymentServiceDeps {
  store: UpdateStore;
  devices: DeviceStore;
  releases: ReleaseStore;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
  /** Publishes `update/notify` to a device, retained (QoS 1). */
  notify(deviceId: string, notify: UpdateNotify): Promise<void>;
}

export type DeploymentService = ReturnType<typeof createDeploymentService>;

/** Ids sort by creation time (the store lists newest first by id), with a random tail. */
function newDeploymentId(atMs: number): string {
  return `dep-${atMs.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

const pageSize = 1000;

export function createDeploymentService(deps: DeploymentServiceDeps) {
  const { store, devices, releases, audit, clock, logger } = deps;

  async function push(deviceIds: string[], notify: UpdateNotify): Promise<void> {
    // A failed push is not fatal: the retained message is the convenience, the pull the fallback.
    for (const deviceId of deviceIds) {
      await deps.notify(deviceId, notify).catch((err: unknown) => {
        logger.warn({ err, deviceId }, 'could not publish update/notify');
      });
    }
  }

  async function candidates(request: DeployRequest): Promise<Device[]> {
    if (request.deviceIds === undefined) {
      const all: Device[] = [];
      let cursor: string | undefined;
      do {
        const page = await devices.listDevices(
          { hardwareModel: request.model },
          { limit: pageSize, ...(cursor ? { cursor } : {}) },
        );
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return all;
    }
    const found = await Promise.all(request.deviceIds.map((id) => devices.getDevice(id)));
    const unknown = request.deviceIds.filter((_, index) => found[index] === undefined);
    if (unknown.length > 0)
      throw new NotFoundError(`unknown device(s): ${unknown.slice(0, 20).join(', ')}`, { unknown });
    return found.filter((device) => device !== undefined);
  }

  /** What a device should install now (the pull answer; the same as its retained notify). */
  async function offerFor(deviceId: string): Promise<UpdateNotify> {
    return notifyFor((await store.activeExecution(deviceId))?.deployment);
  }

  return {
    /** Creates a deployment and pushes its offer. NotFoundError, ValidationError, ConflictError. */
    async deploy(request: DeployRequest, context: DeployContext): Promise<DeployResult> {
      const release = await releases.getRelease(request.model, request.version);
      if (!release)
        throw new NotFoundError(`release ${request.model}@${request.version} not found`, {
          model: request.model,
          version: request.version,
        });
      const target = releaseTargetName(release.hardwareModel, release.version);
      if (!TargetNameSchema.safeParse(target).success)
        throw new ValidationError(`model ${release.hardwareModel} cannot be part of a TUF target name`);
      const plan = planDevices(release, await candidates(request), request.deviceIds !== undefined);
      if (plan.incompatible.length > 0)
        throw new ValidationError(
          `release ${release.id} does not fit: ${plan.incompatible
            .slice(0, 20)
            .map((d) => `${d.deviceId} (${d.reason})`)
            .join(', ')}`,
          { incompatible: plan.incompatible },
        );
      if (plan.offer.length === 0)
        throw new ValidationError(`no device needs ${release.id}`, { skipped: plan.skipped });
      const atMs = clock.now();
      const { deployment, replaced } = await store.createDeployment(
        {
          id: newDeploymentId(atMs),
          hardwareModel: release.hardwareModel,
          version: release.version,
          target,
          installNow: request.installNow,
          force: request.force,
          installWindow: request.installWindow,
          source: context.origin ?? 'manual',
          createdBy: context.actor,
          deviceIds: plan.offer,
        },
        { replace: request.replace },
        atMs,
      );
      await audit.appendAudit({
        atMs,
        actor: context.actor,
        action: 'deployment.created',
        target: deployment.id,
        source: context.source,
        details: {
          release: release.id,
          devices: plan.offer.length,
          skipped: plan.skipped.length,
          replaced,
          installNow: request.installNow,
          force: request.force,
          installWindow: request.installWindow,
        },
      });
      logger.info({ deploymentId: deployment.id, devices: plan.offer.length }, 'deployment created');
      await push(plan.offer, notifyFor(deployment));
      return { deployment, offered: plan.offer, skipped: plan.skipped, replaced };
    },

    /** Withdraws the offer from every device that has not finished. NotFoundError. */
    async cancel(
      deploymentId: string,
      context: { actor: string; source: string },
    ): Promise<{ deployment: Deployment; withdrawn: string[] }> {
      const atMs = clock.now();
      const result = await store.cancelDeployment(deploymentId, atMs);
      // Cancelling is idempotent; only the call that cancelled it is audited.
      if (result.deployment.cancelledAt === isoTime(atMs)) {
        await audit.appendAudit({
          atMs,
          actor: context.actor,
          action: 'deployment.cancelled',
          target: deploymentId,
          source: context.source,
          details: { withdrawn: result.withdrawn.length },
        });
      }
      await push(result.withdrawn, { offer: null });
      return result;
    },

    offerFor,

    /**
     * Publishes every active offer again. The embedded broker keeps retained messages in memory
     * only, so the server calls this once the gateway has started. Returns how many.
     */
    async restoreOffers(): Promise<number> {
      const deployments = new Map<string, Deployment | undefined>();
      let restored = 0;
      let cursor: string | undefined;
      do {
        const page = await store.listActiveAssignments({ limit: pageSize, ...(cursor ? { cursor } : {}) });
        for (const { deviceId, deploymentId } of page.items) {
          if (!deployments.has(deploymentId))
            deployments.set(deploymentId, await store.getDeployment(deploymentId));
          await push([deviceId], notifyFor(deployments.get(deploymentId)));
          restored += 1;
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return restored;
    },

    /**
     * Applies a device's status. A finished assignment clears the retained offer; a refused one
     * re-sends the device its current offer so it can drop a stale assignment.
     */
    async applyStatus(deviceId: string, status: UpdateStatus): Promise<UpdateStatusResponse> {
      const applied = await store.applyStatus(deviceId, status, clock.now());
      if (applied.outcome === 'applied') {
        if (applied.finished) await push([deviceId], { offer: null });
        return { outcome: 'applied', message: `recorded ${status.state}` };
      }
      if (refusedStatusOutcomes.includes(applied.outcome)) {
        logger.warn({ deviceId, status, outcome: applied.outcome }, 'update status refused');
        await push([deviceId], await offerFor(deviceId));
      }
      return { outcome: applied.outcome, message: outcomeMessages[applied.outcome] };
    },

    async summary(deploymentId: string, page: PageRequest): Promise<DeploymentSummary> {
      const deployment = await store.getDeployment(deploymentId);
      if (!deployment) throw new NotFoundError(`deployment ${deploymentId} not found`, { deploymentId });
      const executions = await store.listExecutions(deploymentId, page);
      // The registry's firmware is what the device reports in state/reported: shown next to the
      // execution so a success the device has not confirmed there stands out.
      const items = await Promise.all(
        executions.items.map(async (execution) => ({
          ...execution,
          firmwareVersion: (await devices.getDevice(execution.deviceId))?.firmwareVersion ?? null,
        })),
      );
      return {
        deployment,
        counts: await store.countExecutions(deploymentId),
        devices: { ...executions, items },
      };
    },

    list: (page: PageRequest): Promise<Page<Deployment>> => store.listDeployments(page),

    async history(deviceId: string, limit: number): Promise<UpdateHistoryEntry[]> {
      if (!(await devices.getDevice(deviceId)))
        throw new NotFoundError(`device ${deviceId} not found`, { id: deviceId });
      return store.listHistory(deviceId, { limit });
    },
  };
}

const outcomeMessages: Record<Exclude<UpdateStatusResponse['outcome'], 'applied'>, string> = {
  duplicate: 'seq is not above the last status; ignored',
  ignored: 'the assignment has already finished; ignored',
  not_assigned: 'this device has no such assignment',
  cancelled: 'the offer was withdrawn; stop this update',
  version_mismatch: 'the version is not the one this assignment installs',
};
