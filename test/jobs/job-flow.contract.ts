/**
 * The job dispatcher, status handler and service on a real store with fake time, written once and
 * run on SQLite and PostgreSQL: rate limit, timeouts and retries, abort threshold, scheduling,
 * expiry, unsupported commands, stale and duplicate reports, a restart mid-job, and the audit log.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { JobProgress } from '../../src/contracts/job-messages.ts';
import type { DeviceIdentity } from '../../src/gateway/session-identity.ts';
import { ConfirmationRequiredError, ValidationError } from '../../src/infra/errors.ts';
import { jobCreateSchema } from '../../src/jobs/job-spec.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { alice, jobHarness, runs, type JobHarness } from './job-harness.ts';

const device = (deviceId: string): DeviceIdentity => ({
  deviceId,
  serial: `S-${deviceId}`,
  auth: 'certificate',
  certificateSerial: null,
  fingerprint256: null,
});

export function jobFlowContract(makeStores: () => Promise<Stores>): void {
  describe('jobs flow', () => {
    let h: JobHarness;
    beforeEach(async () => {
      h = await jobHarness(await makeStores());
    });
    afterEach(async () => {
      await h.close();
    });

    const progress = (deviceId: string, report: Omit<JobProgress, 'kind'>) =>
      h.status.status(device(deviceId), { kind: 'progress', ...report }, h.time.clock.now());
    const counts = async (jobId: string) => (await h.service.show(jobId)).counts;
    const state = async (jobId: string) => (await h.service.show(jobId)).job.state;

    it('sends to online devices, collects results and completes', async () => {
      const ids = await h.addDevices(3, true);
      const jobId = await h.create({ operation: 'self-test', target: { deviceIds: ids } });
      assert.equal(await state(jobId), 'scheduled');
      await h.dispatcher.tick();
      const sent = runs(h);
      assert.deepEqual(
        sent.map((r) => [r.deviceId, r.attempt, r.operation]),
        ids.map((id) => [id, 1, 'self-test']),
      );
      for (const run of sent) {
        await progress(run.deviceId, { executionId: run.executionId, attempt: 1, state: 'in-progress' });
        await progress(run.deviceId, {
          executionId: run.executionId,
          attempt: 1,
          state: 'succeeded',
          result: { checks: 5 },
        });
      }
      await h.dispatcher.tick();
      assert.equal(await state(jobId), 'completed');
      assert.deepEqual(await counts(jobId), { succeeded: 3 });
      const page = await h.service.executions(jobId, {}, { limit: 10 });
      assert.deepEqual(page.items[0]?.result, { checks: 5 });
    });

    it('sends no more than rateLimitPerMinute per minute', async () => {
      const ids = await h.addDevices(5, true);
      const jobId = await h.create({
        operation: 'sensors',
        target: { deviceIds: ids },
        rateLimitPerMinute: 2,
      });
      await h.dispatcher.tick();
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 2);
      h.time.advance(30_000);
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 2, 'still inside the minute');
      h.time.advance(30_000);
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 4);
      h.time.advance(60_000);
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 5);
      assert.deepEqual(await counts(jobId), { sent: 5 });
    });

    it('times out attempts, retries with backoff, then gives up as timed-out', async () => {
      const [id] = await h.addDevices(1, true);
      const jobId = await h.create({
        operation: 'reboot',
        target: { deviceIds: [id] },
        timeoutS: 60,
        maxRetries: 1,
        retryBackoffS: 10,
      });
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 1);
      h.time.advance(60_000);
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 1, 'deadline not passed yet (strictly after)');
      h.time.advance(1);
      await h.dispatcher.tick();
      assert.deepEqual(await counts(jobId), { queued: 1 }, 'back in the queue for a retry');
      h.time.advance(9_000);
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 1, 'backoff not over');
      h.time.advance(1_000);
      await h.dispatcher.tick();
      assert.deepEqual(
        runs(h).map((r) => r.attempt),
        [1, 2],
      );
      h.time.advance(60_001);
      await h.dispatcher.tick();
      const [execution] = (await h.service.executions(jobId, {}, { limit: 1 })).items;
      assert.equal(execution?.state, 'timed-out');
      assert.equal(execution?.code, 'timeout');
      assert.equal(await state(jobId), 'completed');
    });

    it('retries a failed attempt but never a rejected one', async () => {
      const ids = await h.addDevices(2, true);
      const jobId = await h.create({
        operation: 'self-test',
        target: { deviceIds: ids },
        maxRetries: 1,
        retryBackoffS: 0,
      });
      await h.dispatcher.tick();
      const [first, second] = runs(h);
      assert.ok(first && second);
      await progress(first.deviceId, {
        executionId: first.executionId,
        attempt: 1,
        state: 'failed',
        code: 'x',
      });
      await progress(second.deviceId, {
        executionId: second.executionId,
        attempt: 1,
        state: 'rejected',
        code: 'bad_params',
        message: 'params.x is not allowed',
      });
      await h.dispatcher.tick();
      assert.deepEqual(
        runs(h).map((r) => [r.deviceId, r.attempt]),
        [
          [first.deviceId, 1],
          [second.deviceId, 1],
          [first.deviceId, 2],
        ],
      );
      const rejected = await h.stores.jobs.findExecution(jobId, second.deviceId);
      assert.equal(rejected?.state, 'failed');
      assert.equal(rejected?.code, 'bad_params');
      assert.equal(rejected?.message, 'params.x is not allowed');
    });

    it('aborts past the failure threshold and cancels what is queued', async () => {
      const ids = await h.addDevices(6, true);
      const jobId = await h.create({
        operation: 'self-test',
        target: { deviceIds: ids },
        rateLimitPerMinute: 3,
        abortAfterFailedPercent: 50,
        minFinished: 2,
      });
      await h.dispatcher.tick();
      const sent = runs(h);
      assert.equal(sent.length, 3);
      for (const run of sent.slice(0, 2))
        await progress(run.deviceId, {
          executionId: run.executionId,
          attempt: 1,
          state: 'failed',
          code: 'disk',
        });
      await h.dispatcher.tick();
      assert.equal(await state(jobId), 'aborted');
      assert.deepEqual(await counts(jobId), { failed: 2, cancelled: 4 });
      const cancels = h.published.filter((p) => p.notify.kind === 'cancel');
      assert.deepEqual(
        cancels.map((c) => c.deviceId),
        [sent[2]?.deviceId],
        'the sent one is told; queued ones never were sent',
      );
      const shown = await h.service.show(jobId);
      assert.match(shown.job.reason ?? '', /2 of 2 finished executions failed/);
      const audit = await h.stores.provisioning.listAudit({ limit: 10 });
      assert.ok(audit.some((e) => e.action === 'job.aborted' && e.target === jobId));
    });

    it('starts a scheduled job at startAt only', async () => {
      const [id] = await h.addDevices(1, true);
      const startAtMs = h.time.clock.now() + 3_600_000;
      const jobId = await h.create({ operation: 'sensors', target: { deviceIds: [id] }, startAtMs });
      await h.dispatcher.tick();
      assert.equal(await state(jobId), 'scheduled');
      assert.equal(runs(h).length, 0);
      h.time.advance(3_600_000);
      await h.dispatcher.tick();
      assert.equal(await state(jobId), 'in-progress');
      assert.equal(runs(h).length, 1);
    });

    it('sends to an offline device when it connects, and expires it after expiresAt', async () => {
      const [early, late] = await h.addDevices(2, false);
      assert.ok(early && late);
      const expiresAtMs = h.time.clock.now() + 600_000;
      const jobId = await h.create({ operation: 'logs', target: { deviceIds: [early, late] }, expiresAtMs });
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 0, 'nobody is online');
      h.time.advance(60_000);
      await h.stores.devices.recordConnected(early, `S-${early}`, h.time.clock.now());
      await h.dispatcher.deliver(early);
      assert.deepEqual(
        runs(h).map((r) => r.deviceId),
        [early],
      );
      // A second connect (the device missed it) re-sends the same attempt.
      await h.dispatcher.deliver(early);
      assert.deepEqual(
        runs(h).map((r) => [r.deviceId, r.attempt]),
        [
          [early, 1],
          [early, 1],
        ],
      );
      h.time.advance(540_000);
      await h.dispatcher.tick();
      const expired = await h.stores.jobs.findExecution(jobId, late);
      assert.equal(expired?.state, 'timed-out');
      assert.equal(expired?.code, 'expired');
      assert.equal((await h.stores.jobs.findExecution(jobId, early))?.state, 'timed-out');
      await h.stores.devices.recordConnected(late, `S-${late}`, h.time.clock.now());
      await h.dispatcher.deliver(late);
      assert.equal(runs(h, late).length, 0, 'an expired execution is never sent');
    });

    it('fails a command the device did not register, with a clear message', async () => {
      const [known, unknown] = await h.addDevices(2, true);
      const [offline] = await h.addDevices(1, false);
      assert.ok(known && unknown && offline);
      await h.stores.jobs.putCapabilities(
        offline,
        { kind: 'capabilities', operations: ['reboot'], commands: [] },
        h.time.clock.now(),
      );
      await h.status.status(
        device(known),
        { kind: 'capabilities', operations: ['command', 'reboot'], commands: [{ name: 'restart-app' }] },
        h.time.clock.now(),
      );
      const dry = await h.service.create(
        jobCreateSchema.parse({
          operation: 'command',
          command: 'flush-cache',
          target: { deviceIds: [known, unknown] },
          dryRun: true,
        }),
        alice,
        'test',
      );
      assert.deepEqual(dry, {
        dryRun: true,
        result: { devices: 2, sample: [known, unknown], unsupported: 1, capabilitiesUnknown: 1 },
      });
      const jobId = await h.create({
        operation: 'command',
        command: 'flush-cache',
        target: { deviceIds: [known, unknown, offline] },
      });
      await h.dispatcher.tick();
      const failed = await h.stores.jobs.findExecution(jobId, known);
      assert.equal(failed?.state, 'failed');
      assert.equal(failed?.code, 'unsupported_command');
      assert.match(failed?.message ?? '', /did not register command flush-cache \(registered: restart-app\)/);
      const offlineFailed = await h.stores.jobs.findExecution(jobId, offline);
      assert.equal(offlineFailed?.state, 'failed', 'known capabilities fail it at once, offline or not');
      assert.equal(offlineFailed?.code, 'unsupported_command');
      assert.deepEqual(
        runs(h).map((r) => r.deviceId),
        [unknown],
        'a device without capabilities decides itself',
      );
    });

    it('ignores stale attempts, duplicates, other devices and reports on final executions', async () => {
      const [id, other] = await h.addDevices(2, true);
      assert.ok(id && other);
      const jobId = await h.create({
        operation: 'self-test',
        target: { deviceIds: [id] },
        timeoutS: 10,
        maxRetries: 1,
        retryBackoffS: 0,
      });
      await h.dispatcher.tick();
      h.time.advance(10_001);
      await h.dispatcher.tick();
      await h.dispatcher.tick();
      const [, second] = runs(h);
      assert.equal(second?.attempt, 2);
      const executionId = second.executionId;
      await progress(id, { executionId, attempt: 1, state: 'failed', code: 'late' });
      assert.equal((await h.stores.jobs.getExecution(executionId))?.state, 'sent', 'attempt 1 is stale');
      await progress(other, { executionId, attempt: 2, state: 'failed' });
      assert.equal((await h.stores.jobs.getExecution(executionId))?.state, 'sent', 'not its execution');
      await progress(id, { executionId, attempt: 2, state: 'succeeded' });
      await progress(id, { executionId, attempt: 2, state: 'succeeded' });
      await progress(id, { executionId, attempt: 2, state: 'failed' });
      await progress(id, { executionId, attempt: 2, state: 'in-progress' });
      const execution = await h.stores.jobs.getExecution(executionId);
      assert.equal(execution?.state, 'succeeded');
      assert.equal(execution?.attempt, 2);
      assert.deepEqual(await counts(jobId), { succeeded: 1 });
    });

    it('continues a job after a restart of the dispatcher on the same store', async () => {
      const ids = await h.addDevices(4, true);
      const jobId = await h.create({
        operation: 'sensors',
        target: { deviceIds: ids },
        rateLimitPerMinute: 2,
      });
      await h.dispatcher.tick();
      const before = runs(h);
      assert.equal(before.length, 2);
      h.restart();
      await h.dispatcher.tick();
      assert.equal(runs(h).length, 2, 'the new dispatcher respects the rate limit of the old one');
      h.time.advance(60_000);
      await h.dispatcher.tick();
      const all = runs(h);
      assert.deepEqual(
        all.map((r) => r.deviceId),
        ids,
        'each device sent once, in order',
      );
      for (const run of all)
        await progress(run.deviceId, { executionId: run.executionId, attempt: 1, state: 'succeeded' });
      await h.dispatcher.tick();
      assert.equal(await state(jobId), 'completed');
    });

    it('cancels one job, all jobs with confirm, and audits with the actor', async () => {
      const ids = await h.addDevices(2, true);
      const first = await h.create({ operation: 'sensors', target: { deviceIds: ids } });
      const second = await h.create({ operation: 'self-test', target: { where: 'id = "d001"' } });
      await h.dispatcher.tick();
      const cancelled = await h.service.cancel(first, alice, '10.0.0.1');
      assert.equal(cancelled.job.state, 'cancelled');
      assert.deepEqual(cancelled.counts, { cancelled: 2 });
      await assert.rejects(h.service.cancelAll(undefined, alice, '10.0.0.1'), ConfirmationRequiredError);
      assert.deepEqual(await h.service.cancelAll(true, alice, '10.0.0.1'), { cancelled: [second] });
      const audit = await h.stores.provisioning.listAudit({ limit: 20 });
      const actions = audit.map((e) => [e.action, e.actor, e.target]).reverse();
      assert.deepEqual(actions, [
        ['job.created', 'user:alice', first],
        ['job.created', 'user:alice', second],
        ['job.cancelled', 'user:alice', first],
        ['job.cancelled', 'user:alice', second],
        ['jobs.cancelled-all', 'user:alice', '*'],
      ]);
    });

    it('asks for confirmation of a factory reset and refuses unknown devices by name', async () => {
      const [id] = await h.addDevices(1, true);
      await assert.rejects(
        h.create({ operation: 'factory-reset', target: { deviceIds: [id] } }),
        ConfirmationRequiredError,
      );
      await h.create({ operation: 'factory-reset', target: { deviceIds: [id] }, confirm: true });
      await assert.rejects(
        h.create({ operation: 'reboot', target: { deviceIds: [id] }, expiresAtMs: h.time.clock.now() }),
        (err: unknown) => err instanceof ValidationError && err.details?.['field'] === 'expiresAtMs',
      );
      await assert.rejects(
        h.create({ operation: 'reboot', target: { deviceIds: [id, 'ghost'] } }),
        (err: unknown) =>
          err instanceof ValidationError &&
          /target.deviceIds: 1 device\(s\) unknown.*ghost/.test(err.message),
      );
    });

    it('narrows the target to the creator device scope', async () => {
      await h.addDevices(3, true);
      const scoped = {
        actor: 'user:eu',
        can: () => true,
        deviceScope: () => ({ kind: 'query' as const, where: 'id = "d002"' }),
      };
      const created = await h.service.create(
        jobCreateSchema.parse({ operation: 'sensors', target: { where: 'id != "d003"' } }),
        scoped,
        'test',
      );
      assert.equal(created.dryRun, false);
      if (created.dryRun) return;
      assert.equal(created.job.deviceCount, 1);
      assert.equal(created.job.createdBy, 'user:eu');
      await assert.rejects(
        h.service.create(
          jobCreateSchema.parse({ operation: 'sensors', target: { deviceIds: ['d001'] } }),
          scoped,
          'test',
        ),
        ValidationError,
      );
      await assert.rejects(h.service.deviceJobs('d001', scoped, 10), { name: 'NotFoundError' });
      assert.equal((await h.service.deviceJobs('d002', scoped, 10)).length, 1);
    });
  });
}
