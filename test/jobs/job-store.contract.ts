/**
 * The JobStore contract, run on SQLite and PostgreSQL: batched job creation, paging, the
 * compare-and-set of executions, bulk finishing, the online/retry filters and capabilities.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { JobCapabilities } from '../../src/contracts/job-messages.ts';
import { jobSpecSchema } from '../../src/jobs/job-spec.ts';
import type { NewJob } from '../../src/store/job-types.ts';
import type { Stores } from '../../src/store/open-store.ts';

const t0 = Date.UTC(2026, 0, 1);

function newJob(id: string, deviceIds: string[], operation: 'reboot' | 'logs' = 'reboot'): NewJob {
  return {
    id,
    spec: jobSpecSchema.parse({ operation, target: { where: 'model = "x"' } }),
    state: 'in-progress',
    createdBy: 'user:alice',
    executions: deviceIds.map((deviceId) => ({ id: `${id}-${deviceId}`, deviceId })),
  };
}

export function jobStoreContract(makeStores: () => Promise<Stores>): void {
  describe('JobStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });
    const jobs = () => stores.jobs;

    it('creates a 10,000-device job in batches and counts its executions', async () => {
      const ids = Array.from({ length: 10_000 }, (_, i) => `dev-${String(i).padStart(5, '0')}`);
      const job = await jobs().createJob(newJob('job-big', ids), t0);
      assert.equal(job.deviceCount, 10_000);
      assert.equal(job.spec.timeoutS, 300);
      assert.deepEqual(await jobs().countExecutions('job-big'), { queued: 10_000 });
      const page = await jobs().listExecutions('job-big', { state: 'queued' }, { limit: 1000 });
      assert.equal(page.items.length, 1000);
      assert.equal(page.items[0]?.deviceId, 'dev-00000');
      const next = await jobs().listExecutions('job-big', {}, { limit: 1000, cursor: page.nextCursor });
      assert.equal(next.items[0]?.deviceId, 'dev-01000');
    });

    it('lists jobs newest first with filters and a cursor', async () => {
      await jobs().createJob(newJob('job-1', ['a']), t0);
      await jobs().createJob(newJob('job-2', ['a'], 'logs'), t0 + 1);
      await jobs().createJob(newJob('job-3', ['a']), t0 + 2);
      const first = await jobs().listJobs({}, { limit: 2 });
      assert.deepEqual(
        first.items.map((j) => j.id),
        ['job-3', 'job-2'],
      );
      const rest = await jobs().listJobs({}, { limit: 2, cursor: first.nextCursor });
      assert.deepEqual(
        rest.items.map((j) => j.id),
        ['job-1'],
      );
      assert.equal(rest.nextCursor, undefined);
      const logs = await jobs().listJobs({ operation: 'logs' }, { limit: 10 });
      assert.deepEqual(
        logs.items.map((j) => j.id),
        ['job-2'],
      );
    });

    it('moves job states only from the expected state', async () => {
      await jobs().createJob({ ...newJob('job-1', ['a']), state: 'scheduled' }, t0);
      assert.equal(await jobs().updateJobState('job-1', 'scheduled', 'in-progress', null, t0 + 5), true);
      assert.equal(await jobs().updateJobState('job-1', 'scheduled', 'cancelled', 'x', t0 + 6), false);
      assert.equal(await jobs().updateJobState('job-1', 'in-progress', 'aborted', 'too many', t0 + 7), true);
      const job = await jobs().getJob('job-1');
      assert.equal(job?.state, 'aborted');
      assert.equal(job?.reason, 'too many');
      assert.equal(job?.startedAtMs, t0 + 5);
      assert.equal(job?.finishedAtMs, t0 + 7);
      assert.deepEqual(await jobs().listActiveJobs(), []);
    });

    it('changes an execution only from the expected state and attempt', async () => {
      await jobs().createJob(newJob('job-1', ['a']), t0);
      const id = 'job-1-a';
      const sent = { state: 'sent', attempt: 1, sentAtMs: t0, deadlineMs: t0 + 1000 } as const;
      assert.equal(await jobs().updateExecution(id, { state: 'queued', attempt: 0 }, sent, t0), true);
      assert.equal(await jobs().updateExecution(id, { state: 'queued', attempt: 0 }, sent, t0), false);
      const done = { state: 'succeeded', attempt: 1, result: { ok: true }, deadlineMs: null } as const;
      assert.equal(await jobs().updateExecution(id, { state: 'sent', attempt: 1 }, done, t0 + 10), true);
      const execution = await jobs().getExecution(id);
      assert.equal(execution?.state, 'succeeded');
      assert.deepEqual(execution?.result, { ok: true });
      assert.equal(execution?.sentAtMs, t0, 'unset fields keep their value');
      assert.equal(execution?.deadlineMs, null);
      assert.equal(execution?.finishedAtMs, t0 + 10);
      assert.equal(await jobs().countSentSince('job-1', t0), 1);
      assert.equal(await jobs().countSentSince('job-1', t0 + 1), 0);
    });

    it('offers only queued executions of online devices whose retry delay passed', async () => {
      for (const id of ['a', 'b', 'c']) await stores.devices.createDevice({ id, serial: `S-${id}` }, t0);
      await stores.devices.recordConnected('a', 'S-a', t0);
      await stores.devices.recordConnected('b', 'S-b', t0);
      await jobs().createJob(newJob('job-1', ['a', 'b', 'c']), t0);
      await jobs().updateExecution(
        'job-1-b',
        { state: 'queued', attempt: 0 },
        { state: 'queued', attempt: 0, notBeforeMs: t0 + 100 },
        t0,
      );
      const ids = async (nowMs: number) =>
        (await jobs().sendableExecutions('job-1', nowMs, 10)).map((e) => e.deviceId);
      assert.deepEqual(await ids(t0), ['a']);
      assert.deepEqual(await ids(t0 + 100), ['a', 'b']);
      assert.deepEqual(
        (await jobs().pendingExecutionsOfDevice('c')).map((e) => e.id),
        ['job-1-c'],
      );
    });

    it('finishes executions in given states in bulk and reports what they were', async () => {
      await jobs().createJob(newJob('job-1', ['a', 'b', 'c']), t0);
      await jobs().updateExecution(
        'job-1-b',
        { state: 'queued', attempt: 0 },
        { state: 'sent', attempt: 1, deadlineMs: t0 + 5 },
        t0,
      );
      await jobs().updateExecution(
        'job-1-c',
        { state: 'queued', attempt: 0 },
        { state: 'succeeded', attempt: 1 },
        t0,
      );
      const moved = await jobs().finishExecutions(
        'job-1',
        ['queued', 'sent'],
        'cancelled',
        { code: 'job_cancelled', message: 'by alice' },
        t0 + 1,
      );
      assert.deepEqual(moved, [
        { id: 'job-1-a', deviceId: 'a', state: 'queued' },
        { id: 'job-1-b', deviceId: 'b', state: 'sent' },
      ]);
      assert.deepEqual(await jobs().countExecutions('job-1'), { cancelled: 2, succeeded: 1 });
      const b = await jobs().findExecution('job-1', 'b');
      assert.equal(b?.code, 'job_cancelled');
      assert.equal(b?.deadlineMs, null);
    });

    it('finds overdue attempts and records log bundles', async () => {
      await jobs().createJob(newJob('job-1', ['a', 'b'], 'logs'), t0);
      await jobs().updateExecution(
        'job-1-a',
        { state: 'queued', attempt: 0 },
        { state: 'sent', attempt: 1, deadlineMs: t0 + 5 },
        t0,
      );
      assert.deepEqual(await jobs().overdueExecutions('job-1', t0 + 5, 10), []);
      assert.deepEqual(
        (await jobs().overdueExecutions('job-1', t0 + 6, 10)).map((e) => e.id),
        ['job-1-a'],
      );
      await jobs().recordLogs('job-1-a', 'job-1/job-1-a.log.gz', 1234, t0 + 7);
      const a = await jobs().getExecution('job-1-a');
      assert.equal(a?.logFile, 'job-1/job-1-a.log.gz');
      assert.equal(a?.logBytes, 1234);
      assert.deepEqual(
        (await jobs().listDeviceExecutions('a', 10)).map((e) => e.id),
        ['job-1-a'],
      );
    });

    it('stores and replaces device capabilities', async () => {
      const caps: JobCapabilities = { kind: 'capabilities', operations: ['reboot'], commands: [] };
      await jobs().putCapabilities('a', caps, t0);
      await jobs().putCapabilities(
        'a',
        { ...caps, operations: ['reboot', 'command'], commands: [{ name: 'x' }] },
        t0 + 1,
      );
      const found = await jobs().getCapabilities(['a', 'b']);
      assert.deepEqual([...found.keys()], ['a']);
      assert.deepEqual(found.get('a')?.commands, [{ name: 'x' }]);
    });
  });
}
