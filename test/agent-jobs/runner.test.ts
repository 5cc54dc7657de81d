/** The job runner with a fake link and fake actions: every operation, duplicates, reboots, rejections. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/infra/clock.ts';
import {
  createExecutionBook,
  fileBookStorage,
  memoryBookStorage,
  type BookStorage,
} from '../../src/agent/jobs/execution-book.ts';
import { createJobRunner } from '../../src/agent/jobs/runner.ts';
import { ActionRejectedError } from '../../src/agent/jobs/types.ts';
import { waitFor } from '../helpers/wait.ts';
import { fakeActions, fakeLink, quietLogger, run, type FakeActions } from './fake-device.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function setup(actions: FakeActions = fakeActions(), storage: BookStorage = memoryBookStorage()) {
  const runner = createJobRunner({
    clock: systemClock,
    logger: quietLogger,
    actions,
    book: createExecutionBook(storage),
  });
  const link = fakeLink();
  runner.attach(link);
  await runner.start();
  runner.onConnected();
  await waitFor(() => link.sent.length > 0, { what: 'capabilities' });
  return { runner, link, actions, storage };
}

const states = (link: ReturnType<typeof fakeLink>, id: string) => link.progress(id).map((p) => p.state);

describe('job runner', () => {
  it('sends capabilities first on every connect', async () => {
    const { runner, link } = await setup();
    assert.deepEqual(link.sent[0], {
      kind: 'capabilities',
      operations: ['reboot', 'factory-reset', 'recovery', 'logs', 'self-test', 'sensors', 'command'],
      commands: [{ name: 'echo', description: 'says hello' }],
    });
    runner.onConnected();
    await waitFor(() => link.sent.length === 2);
    assert.equal(link.sent[1]?.kind, 'capabilities');
  });

  it('runs each operation and reports in-progress then the outcome', async () => {
    const { runner, link, actions } = await setup();
    const runs = [
      run('factory-reset', { params: { wipeIdentity: true } }),
      run('recovery'),
      run('logs'),
      run('self-test'),
      run('sensors', { params: { names: ['battery_pct'] } }),
      run('command', { command: 'echo', params: { greeting: 'hi' } }),
    ];
    for (const r of runs) runner.onNotify(r);
    await runner.idle();
    await waitFor(() => runs.every((r) => states(link, r.executionId).length === 2));
    for (const r of runs) {
      assert.deepEqual(states(link, r.executionId), ['in-progress', 'succeeded'], r.operation);
      assert.deepEqual(link.progress(r.executionId)[1]?.result, { done: true });
    }
    assert.deepEqual(actions.calls, [
      'factory-reset:true',
      'recovery',
      `logs:${runs[2]?.executionId}`,
      'self-test:true',
      'sensors:battery_pct',
      'command:echo:{"greeting":"hi"}',
    ]);
  });

  it('reports a failed action with its code and result', async () => {
    const { runner, link } = await setup(
      fakeActions({ ok: false, code: 'self_test_failed', message: 'disk', result: { passed: false } }),
    );
    const r = run('self-test');
    runner.onNotify(r);
    await waitFor(() => states(link, r.executionId).length === 2);
    const outcome = link.progress(r.executionId)[1];
    assert.equal(outcome?.state, 'failed');
    assert.equal(outcome?.code, 'self_test_failed');
    assert.deepEqual(outcome?.result, { passed: false });
  });

  it('rejects unknown commands, unsupported operations and bad params without running them', async () => {
    const actions = fakeActions();
    actions.operations = () => ['self-test', 'command', 'factory-reset'];
    const { runner, link } = await setup(actions);
    const unknown = run('command', { command: 'launch-rockets' });
    const unsupported = run('reboot');
    const bad = run('factory-reset', { params: { wipeIdentity: 'yes' } });
    for (const r of [unknown, unsupported, bad]) runner.onNotify(r);
    await waitFor(() => [unknown, unsupported, bad].every((r) => link.progress(r.executionId).length === 1));
    assert.equal(link.progress(unknown.executionId)[0]?.state, 'rejected');
    assert.equal(link.progress(unknown.executionId)[0]?.code, 'unsupported_command');
    assert.match(link.progress(unknown.executionId)[0]?.message ?? '', /launch-rockets/);
    assert.equal(link.progress(unsupported.executionId)[0]?.code, 'unsupported_command');
    assert.equal(link.progress(bad.executionId)[0]?.code, 'bad_params');
    assert.match(link.progress(bad.executionId)[0]?.message ?? '', /params\.wipeIdentity/);
    assert.deepEqual(actions.calls, []);
  });

  it('rejects a notify that fails the schema but names an execution', async () => {
    const { runner, link, actions } = await setup();
    runner.onInvalidNotify(
      { kind: 'run', executionId: 'x-new', attempt: 1, operation: 'teleport' },
      'operation: invalid option',
    );
    runner.onInvalidNotify(
      { kind: 'run', executionId: 'x-big', attempt: 1, operation: 'sensors' },
      'params: params must be at most 8 KiB of JSON',
    );
    runner.onInvalidNotify({ kind: 'run', attempt: 1 }, 'executionId: is required');
    runner.onInvalidNotify('not an object', 'payload is not JSON');
    await waitFor(() => link.progress('x-new').length === 1 && link.progress('x-big').length === 1);
    assert.equal(link.progress('x-new')[0]?.state, 'rejected');
    assert.equal(link.progress('x-new')[0]?.code, 'unsupported_command');
    assert.match(link.progress('x-new')[0]?.message ?? '', /teleport/);
    assert.equal(link.progress('x-big')[0]?.code, 'bad_params');
    assert.match(link.progress('x-big')[0]?.message ?? '', /8 KiB/);
    assert.equal(link.sent.filter((s) => s.kind === 'progress').length, 2);
    assert.deepEqual(actions.calls, []);
  });

  it('maps an ActionRejectedError to rejected with its code', async () => {
    const actions = fakeActions();
    actions.recovery = () => Promise.reject(new ActionRejectedError('not_configured', 'no recovery'));
    const { runner, link } = await setup(actions);
    const r = run('recovery');
    runner.onNotify(r);
    await waitFor(() => states(link, r.executionId).length === 2);
    assert.equal(link.progress(r.executionId)[1]?.state, 'rejected');
    assert.equal(link.progress(r.executionId)[1]?.code, 'not_configured');
  });

  it('answers a duplicate notify with the recorded outcome, never running twice', async () => {
    const { runner, link, actions } = await setup();
    const r = run('sensors');
    runner.onNotify(r);
    await runner.idle();
    await waitFor(() => states(link, r.executionId).length === 2);
    runner.onNotify(r);
    await waitFor(() => states(link, r.executionId).length === 3);
    assert.deepEqual(states(link, r.executionId), ['in-progress', 'succeeded', 'succeeded']);
    assert.equal(actions.calls.length, 1);
    // A retry (next attempt) is a new execution attempt and runs.
    runner.onNotify({ ...r, attempt: 2 });
    await runner.idle();
    assert.equal(actions.calls.length, 2);
  });

  it('runs one execution at a time and a cancel drops a queued one', async () => {
    const actions = fakeActions();
    let open: () => void = () => {};
    actions.gate = new Promise((resolve) => (open = resolve));
    const { runner, link } = await setup(actions);
    const first = run('self-test');
    const second = run('sensors');
    const third = run('recovery');
    for (const r of [first, second, third]) runner.onNotify(r);
    await waitFor(() => states(link, first.executionId).length === 1);
    assert.deepEqual(actions.calls, ['self-test:true']);
    runner.onNotify({ kind: 'cancel', executionId: second.executionId });
    open();
    await runner.idle();
    assert.deepEqual(actions.calls, ['self-test:true', 'recovery']);
    assert.deepEqual(states(link, second.executionId), []);
  });

  it('keeps reports made while disconnected and sends them after the next capabilities', async () => {
    const { runner, link } = await setup();
    link.connected = false;
    const r = run('sensors');
    runner.onNotify(r);
    await runner.idle();
    assert.deepEqual(states(link, r.executionId), []);
    link.connected = true;
    runner.onConnected();
    await waitFor(() => states(link, r.executionId).length === 1);
    const last = link.sent.slice(-2);
    assert.equal(last[0]?.kind, 'capabilities');
    assert.deepEqual(states(link, r.executionId), ['succeeded']);
  });

  it('an execution arriving before the capabilities are acknowledged reports right after them', async () => {
    const { runner, link, actions } = await setup();
    // The next connection: the broker holds the capabilities' PUBACK for a moment.
    let ack: () => void = () => {};
    const held = new Promise<void>((resolve) => (ack = resolve));
    const publish = link.publish.bind(link);
    link.publish = (status) =>
      status.kind === 'capabilities' ? held.then(() => publish(status)) : publish(status);
    runner.onConnected();
    const r = run('self-test');
    runner.onNotify(r);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(states(link, r.executionId), []);
    ack();
    await runner.idle();
    await waitFor(() => states(link, r.executionId).length === 2);
    const kinds = link.sent.slice(-3).map((s) => (s.kind === 'progress' ? s.state : s.kind));
    assert.deepEqual(kinds, ['capabilities', 'in-progress', 'succeeded']);
    // The in-progress PUBACK still served as the broker round trip.
    assert.deepEqual(actions.calls, ['self-test:true']);
  });

  it('reports a reboot succeeded only after the device came back (a restart with the same book)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-jobs-'));
    dirs.push(dir);
    const storage = fileBookStorage(dir);
    const before = await setup(fakeActions(), storage);
    const r = run('reboot');
    before.runner.onNotify(r);
    await waitFor(() => before.actions.calls.includes('reboot'));
    assert.deepEqual(states(before.link, r.executionId), ['in-progress']);
    // A duplicate before the device went down is answered in-progress, not run again.
    before.runner.onNotify(r);
    await waitFor(() => states(before.link, r.executionId).length === 2);
    assert.deepEqual(states(before.link, r.executionId), ['in-progress', 'in-progress']);
    before.runner.stop();

    const after = await setup(fakeActions(), fileBookStorage(dir));
    await waitFor(() => states(after.link, r.executionId).length === 1);
    const outcome = after.link.progress(r.executionId)[0];
    assert.equal(outcome?.state, 'succeeded');
    assert.equal(typeof outcome?.result?.['backAtMs'], 'number');
    assert.deepEqual(after.actions.calls, []);
    // The notify redelivered after the reboot gets the recorded success.
    after.runner.onNotify(r);
    await waitFor(() => states(after.link, r.executionId).length === 2);
    assert.deepEqual(states(after.link, r.executionId), ['succeeded', 'succeeded']);
  });

  it('marks an execution the agent was running when it stopped as interrupted', async () => {
    const storage = memoryBookStorage();
    const actions = fakeActions();
    actions.gate = new Promise(() => {}); // never finishes: the process "dies" mid-run
    const before = await setup(actions, storage);
    const r = run('self-test');
    before.runner.onNotify(r);
    await waitFor(() => states(before.link, r.executionId).length === 1);
    const after = await setup(fakeActions(), storage);
    await waitFor(() => states(after.link, r.executionId).length === 1);
    assert.equal(after.link.progress(r.executionId)[0]?.code, 'interrupted');
  });

  it('a reboot whose command fails is reported failed and the queue goes on', async () => {
    const actions = fakeActions();
    actions.reboot = () => Promise.reject(new Error('systemctl: permission denied'));
    const { runner, link } = await setup(actions);
    const r = run('reboot');
    const next = run('sensors');
    runner.onNotify(r);
    runner.onNotify(next);
    await waitFor(() => states(link, next.executionId).length === 2);
    assert.equal(link.progress(r.executionId)[1]?.state, 'failed');
    assert.match(link.progress(r.executionId)[1]?.message ?? '', /permission denied/);
  });

  it('replaces a result over the protocol limit by a note', async () => {
    const { runner, link } = await setup(fakeActions({ ok: true, result: { big: 'x'.repeat(20_000) } }));
    const r = run('sensors');
    runner.onNotify(r);
    await waitFor(() => states(link, r.executionId).length === 2);
    assert.equal(link.progress(r.executionId)[1]?.result?.['truncated'], true);
  });
});
