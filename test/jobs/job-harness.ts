/** A job dispatcher and service on real stores with fake time and a recording publisher. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { unrestrictedPrincipal } from '../../src/access/principal.ts';
import type { JobNotify } from '../../src/contracts/job-messages.ts';
import { GroupService } from '../../src/groups/group-service.ts';
import { createJobDispatcher, type JobDispatcher } from '../../src/jobs/job-dispatcher.ts';
import { jobLogFiles } from '../../src/jobs/job-logs.ts';
import { createJobService, type JobService } from '../../src/jobs/job-service.ts';
import { jobCreateSchema } from '../../src/jobs/job-spec.ts';
import { createJobStatusHandler } from '../../src/jobs/job-status-handler.ts';
import type { JobStatusHandler } from '../../src/gateway/types.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';

export const t0 = Date.UTC(2026, 0, 1);
export const alice = unrestrictedPrincipal('user:alice');

export interface JobHarness {
  stores: Stores;
  time: FakeTime;
  published: Array<{ deviceId: string; notify: JobNotify }>;
  dispatcher: JobDispatcher;
  service: JobService;
  status: JobStatusHandler;
  /** A new dispatcher (a restarted server) on the same store and publisher. */
  restart(): void;
  /** Creates devices `d1`…`dN`; `online` ones are marked connected. */
  addDevices(count: number, online: boolean): Promise<string[]>;
  create(body: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function jobHarness(stores: Stores): Promise<JobHarness> {
  const time = fakeTime(t0);
  const logger = pino({ level: 'silent' });
  const published: JobHarness['published'] = [];
  const logDir = await mkdtemp(join(tmpdir(), 'flotilla-job-logs-'));
  const dispatcherOf = () =>
    createJobDispatcher({
      jobs: stores.jobs,
      audit: stores.provisioning,
      clock: time.clock,
      logger,
      publish: (deviceId, notify) => {
        published.push({ deviceId, notify });
        return Promise.resolve();
      },
    });
  const harness: JobHarness = {
    stores,
    time,
    published,
    dispatcher: dispatcherOf(),
    service: undefined as unknown as JobService,
    status: undefined as unknown as JobStatusHandler,
    restart() {
      harness.dispatcher = dispatcherOf();
      wire();
    },
    async addDevices(count, online) {
      const ids: string[] = [];
      const existing = await stores.devices.countDevices({});
      for (let i = existing + 1; i <= existing + count; i += 1) {
        const id = `d${String(i).padStart(3, '0')}`;
        await stores.devices.createDevice({ id, serial: `S-${id}` }, time.clock.now());
        if (online) await stores.devices.recordConnected(id, `S-${id}`, time.clock.now());
        ids.push(id);
      }
      return ids;
    },
    async create(body) {
      const created = await harness.service.create(jobCreateSchema.parse(body), alice, 'test');
      if (created.dryRun) throw new Error('expected a job');
      return created.job.id;
    },
    async close() {
      await stores.close();
      await rm(logDir, { recursive: true, force: true });
    },
  };
  function wire(): void {
    harness.service = createJobService({
      jobs: stores.jobs,
      devices: stores.devices,
      groups: new GroupService({ groups: stores.groups, clock: time.clock }),
      audit: stores.provisioning,
      dispatcher: harness.dispatcher,
      logs: jobLogFiles(logDir),
      clock: time.clock,
      logger,
    });
    harness.status = createJobStatusHandler({ jobs: stores.jobs, dispatcher: harness.dispatcher, logger });
  }
  wire();
  return harness;
}

/** The `run` messages published so far, optionally only for one device. */
export function runs(harness: JobHarness, deviceId?: string) {
  return harness.published
    .filter((p) => deviceId === undefined || p.deviceId === deviceId)
    .flatMap((p) => (p.notify.kind === 'run' ? [{ deviceId: p.deviceId, ...p.notify }] : []));
}
