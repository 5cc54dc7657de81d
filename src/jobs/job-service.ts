/**
 * The jobs use cases behind the API and CLI: create (resolve the target to a device snapshot
 * within the caller's device scope), dry run, read, cancel, cancel all, and log bundles. Every
 * create and cancel is audited with the caller's actor.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { requireConfirmation } from '../access/confirmation.ts';
import { scopedWhere, type Principal } from '../access/principal.ts';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';
import type { FleetQuery } from '../fleet-query/index.ts';
import type { Clock } from '../infra/clock.ts';
import { ConflictError, NotFoundError, ValidationError } from '../infra/errors.ts';
import type { ExecutionCounts, ExecutionRecord, JobFilter, JobRecord, JobStore } from '../store/job-types.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import type { DeviceSelection, DeviceStore, Page, PageRequest } from '../store/types.ts';
import type { TransitionListener } from './execution-events.ts';
import type { JobDispatcher } from './job-dispatcher.ts';
import type { JobLogFiles } from './job-logs.ts';
import { unsupportedReason } from './job-notify.ts';
import { jobSpecSchema, type JobCreate, type JobSpec } from './job-spec.ts';
import { finalJobStates, type ExecutionState } from './job-states.ts';

/** Devices listed by a dry run. */
const SAMPLE_SIZE = 20;
const DEVICE_PAGE = 1000;

export interface JobServiceDeps {
  jobs: JobStore;
  devices: Pick<DeviceStore, 'listDevicesMatching' | 'countDevices'>;
  /** Fleet-query parsing with saved groups (GroupService). */
  groups: {
    deviceQuery(where: string | undefined, group: string | undefined): Promise<FleetQuery | undefined>;
    parse(text: string): Promise<FleetQuery>;
  };
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  dispatcher: Pick<JobDispatcher, 'stop'>;
  logs: JobLogFiles;
  clock: Clock;
  logger: Logger;
  onTransition?: TransitionListener;
  /** Called after a job was stored (the driver runs a tick at once). */
  created?: () => void;
}

export interface DryRun {
  devices: number;
  sample: string[];
  /** Devices whose capabilities show they cannot run it (they would fail at once). */
  unsupported: number;
  /** Devices that never reported capabilities (they decide themselves). */
  capabilitiesUnknown: number;
}

export interface JobView {
  job: JobRecord;
  counts: ExecutionCounts;
}

export type JobService = ReturnType<typeof createJobService>;

export function createJobService(deps: JobServiceDeps) {
  const { jobs, clock } = deps;

  /** The device ids the target reaches inside the caller's `jobs:write` scope, by id. */
  async function resolveDevices(spec: JobSpec, principal: Principal): Promise<string[]> {
    const target = spec.target;
    const where = scopedWhere(
      principal.deviceScope('jobs:write'),
      'where' in target ? target.where : undefined,
    );
    const query = await deps.groups.deviceQuery(where, 'group' in target ? target.group : undefined);
    const selection: DeviceSelection = {
      ...('deviceIds' in target && { deviceIds: target.deviceIds }),
      ...(query !== undefined && { where: { query, nowMs: clock.now() } }),
    };
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.devices.listDevicesMatching(selection, { limit: DEVICE_PAGE, cursor });
      for (const device of page.items) ids.push(device.id);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if ('deviceIds' in target) {
      const found = new Set(ids);
      const missing = [...new Set(target.deviceIds)].filter((id) => !found.has(id));
      if (missing.length > 0)
        throw new ValidationError(
          `target.deviceIds: ${missing.length} device(s) unknown or outside your scope: ${missing.slice(0, 20).join(', ')}`,
          { field: 'target.deviceIds', missing: missing.slice(0, 100) },
        );
    }
    if (ids.length === 0) throw new ValidationError('the target matches no device', { field: 'target' });
    return ids;
  }

  async function dryRun(spec: JobSpec, deviceIds: string[]): Promise<DryRun> {
    const capabilities = await jobs.getCapabilities(deviceIds);
    let unsupported = 0;
    for (const id of deviceIds)
      if (unsupportedReason(spec, capabilities.get(id)) !== undefined) unsupported += 1;
    return {
      devices: deviceIds.length,
      sample: deviceIds.slice(0, SAMPLE_SIZE),
      unsupported,
      capabilitiesUnknown: deviceIds.length - capabilities.size,
    };
  }

  async function getJob(id: string): Promise<JobRecord> {
    const job = await jobs.getJob(id);
    if (job === undefined) throw new NotFoundError(`job ${id} not found`, { id });
    return job;
  }

  /** NotFoundError unless the device exists inside the principal's scope for `jobs:read`. */
  async function checkDeviceInScope(deviceId: string, principal: Principal): Promise<void> {
    const notFound = new NotFoundError(`device ${deviceId} not found`, { id: deviceId });
    if (!DEVICE_ID_PATTERN.test(deviceId)) throw notFound;
    const text = scopedWhere(principal.deviceScope('jobs:read'), `id = "${deviceId}"`) ?? '';
    const query = await deps.groups.parse(text);
    if ((await deps.devices.countDevices({ where: { query, nowMs: clock.now() } })) === 0) throw notFound;
  }

  return {
    /** Stores the job (or, with `dryRun`, only counts); 428 for a factory reset without confirm. */
    async create(
      input: JobCreate,
      principal: Principal,
      source: string,
    ): Promise<{ dryRun: true; result: DryRun } | { dryRun: false; job: JobRecord }> {
      const { confirm, dryRun: onlyCount, ...fields } = input;
      const spec = jobSpecSchema.parse(fields);
      if (spec.expiresAtMs !== undefined && spec.expiresAtMs <= clock.now())
        throw new ValidationError('expiresAtMs is in the past', { field: 'expiresAtMs' });
      const deviceIds = await resolveDevices(spec, principal);
      if (onlyCount) return { dryRun: true, result: await dryRun(spec, deviceIds) };
      if (spec.operation === 'factory-reset') requireConfirmation(confirm, 'a factory reset');
      const nowMs = clock.now();
      const id = `job-${nowMs.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
      const job = await jobs.createJob(
        {
          id,
          spec,
          state: 'scheduled',
          createdBy: principal.actor,
          executions: deviceIds.map((deviceId) => ({
            id: `ex-${randomBytes(10).toString('hex')}`,
            deviceId,
          })),
        },
        nowMs,
      );
      for (let i = 0; i < deviceIds.length; i += 1) deps.onTransition?.(spec.operation, 'queued');
      await deps.audit.appendAudit({
        actor: principal.actor,
        action: 'job.created',
        target: id,
        source,
        details: {
          operation: spec.operation,
          ...(spec.command !== undefined && { command: spec.command }),
          devices: deviceIds.length,
          target: spec.target,
        },
        atMs: nowMs,
      });
      deps.logger.info({ jobId: id, operation: spec.operation, devices: deviceIds.length }, 'job created');
      deps.created?.();
      return { dryRun: false, job };
    },

    list: (filter: JobFilter, page: PageRequest): Promise<Page<JobRecord>> => jobs.listJobs(filter, page),

    async show(id: string): Promise<JobView> {
      const job = await getJob(id);
      return { job, counts: await jobs.countExecutions(id) };
    },

    async executions(
      id: string,
      filter: { state?: ExecutionState },
      page: PageRequest,
    ): Promise<Page<ExecutionRecord>> {
      await getJob(id);
      return jobs.listExecutions(id, filter, page);
    },

    async cancel(id: string, principal: Principal, source: string): Promise<JobView> {
      // A tick may start the job between the read and the cancel: read again and retry then.
      for (let tries = 0; ; tries += 1) {
        const job = await getJob(id);
        const reason = `cancelled by ${principal.actor}`;
        if (await deps.dispatcher.stop(job, 'cancelled', reason, principal.actor, source)) break;
        const now = await getJob(id);
        if (finalJobStates.includes(now.state) || tries >= 2)
          throw new ConflictError(`job ${id} is ${now.state}: nothing to cancel`, { id, state: now.state });
      }
      return { job: await getJob(id), counts: await jobs.countExecutions(id) };
    },

    /** Cancels every scheduled or in-progress job; 428 without confirm. */
    async cancelAll(
      confirm: boolean | undefined,
      principal: Principal,
      source: string,
    ): Promise<{ cancelled: string[] }> {
      requireConfirmation(confirm, 'cancelling every job');
      const cancelled: string[] = [];
      for (const job of await jobs.listActiveJobs()) {
        if (
          await deps.dispatcher.stop(
            job,
            'cancelled',
            `cancel-all by ${principal.actor}`,
            principal.actor,
            source,
          )
        )
          cancelled.push(job.id);
      }
      await deps.audit.appendAudit({
        actor: principal.actor,
        action: 'jobs.cancelled-all',
        target: '*',
        source,
        details: { jobs: cancelled.length },
        atMs: clock.now(),
      });
      return { cancelled };
    },

    async deviceJobs(deviceId: string, principal: Principal, limit: number): Promise<ExecutionRecord[]> {
      await checkDeviceInScope(deviceId, principal);
      return jobs.listDeviceExecutions(deviceId, limit);
    },

    /** The device's own `logs` execution receives its bundle; anything else is 404 (nothing leaks). */
    async uploadLogs(deviceId: string, executionId: string, body: Readable): Promise<{ bytes: number }> {
      const execution = await jobs.getExecution(executionId);
      const job = execution && (await jobs.getJob(execution.jobId));
      if (execution?.deviceId !== deviceId || job?.spec.operation !== 'logs')
        throw new NotFoundError(`no logs execution ${executionId} for this device`, { executionId });
      const stored = await deps.logs.write(job.id, executionId, body);
      await jobs.recordLogs(executionId, stored.file, stored.bytes, clock.now());
      return { bytes: stored.bytes };
    },

    async readLogs(
      jobId: string,
      deviceId: string,
      principal: Principal,
    ): Promise<{ body: Readable; filename: string }> {
      await checkDeviceInScope(deviceId, principal);
      const execution = await jobs.findExecution(jobId, deviceId);
      if (execution?.logFile == null)
        throw new NotFoundError(`no log bundle for device ${deviceId} in job ${jobId}`, { jobId, deviceId });
      return { body: await deps.logs.read(execution.logFile), filename: `${jobId}-${deviceId}.log.gz` };
    },
  };
}
