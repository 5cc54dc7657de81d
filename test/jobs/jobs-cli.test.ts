/** `flotilla jobs …` as a user runs it (a child process) against a real server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runFlotilla } from '../helpers/flotilla-cli.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { commandHelp } from '../helpers/cli-help.ts';

describe('flotilla jobs', () => {
  let fx: ServerFixture;
  let env: Record<string, string>;
  before(async () => {
    fx = await createServerFixture();
    env = { FLOTILLA_URL: `http://127.0.0.1:${fx.httpPort}` };
    const stores = fx.server().stores;
    for (const id of ['cli-job-1', 'cli-job-2']) {
      await stores.devices.createDevice({ id, serial: `SN-${id}` }, Date.now());
      await stores.devices.recordConnected(id, `SN-${id}`, Date.now());
      await stores.jobs.putCapabilities(
        id,
        { kind: 'capabilities', operations: ['reboot'], commands: [] },
        Date.now(),
      );
    }
  });
  after(async () => {
    await fx?.close();
  });

  it('prints help for every sub-command', async () => {
    const result = await runFlotilla(['jobs', '--help'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Usage: flotilla jobs/);
    for (const sub of ['create', 'list', 'show', 'executions', 'cancel', 'cancel-all', 'logs'])
      assert.match(commandHelp(['jobs', sub]), new RegExp(`Usage: flotilla jobs ${sub}`));
  });

  it('dry-runs, creates, lists, shows and cancels', async () => {
    const dry = await runFlotilla(
      ['jobs', 'create', '--operation', 'self-test', '--where', 'id != "x"', '--dry-run', '--json'],
      env,
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout), {
      devices: 2,
      sample: ['cli-job-1', 'cli-job-2'],
      unsupported: 2,
      capabilitiesUnknown: 0,
    });
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const created = await runFlotilla(
      ['jobs', 'create', '--operation', 'reboot', '--device', 'cli-job-1', '--start-at', later, '--json'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const job = JSON.parse(created.stdout) as { id: string; state: string };
    assert.equal(job.state, 'scheduled');
    const list = await runFlotilla(['jobs', 'list', '--state', 'scheduled'], env);
    assert.match(list.stdout, new RegExp(`${job.id}\\s+reboot\\s+scheduled\\s+1\\s+api`));
    const show = await runFlotilla(['jobs', 'show', job.id], env);
    assert.match(show.stdout, /executions: queued 1/);
    const executions = await runFlotilla(['jobs', 'executions', job.id, '--json'], env);
    assert.equal((JSON.parse(executions.stdout) as { items: unknown[] }).items.length, 1);
    const cancelled = await runFlotilla(['jobs', 'cancel', job.id], env);
    assert.match(cancelled.stdout, new RegExp(`job ${job.id} cancelled: cancelled 1`));
    const again = await runFlotilla(['jobs', 'cancel', job.id], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /nothing to cancel/);
  });

  it('refuses dangerous operations without --confirm and bad flags by name', async () => {
    const reset = await runFlotilla(
      ['jobs', 'create', '--operation', 'factory-reset', '--device', 'cli-job-1'],
      env,
    );
    assert.equal(reset.code, 1);
    assert.match(reset.stderr, /"confirm": true/);
    const all = await runFlotilla(['jobs', 'cancel-all'], env);
    assert.equal(all.code, 1);
    assert.match(all.stderr, /confirm/);
    assert.equal((await runFlotilla(['jobs', 'cancel-all', '--confirm'], env)).code, 0);
    const badRate = await runFlotilla(
      ['jobs', 'create', '--operation', 'reboot', '--device', 'x', '--rate', 'fast'],
      env,
    );
    assert.notEqual(badRate.code, 0);
    assert.match(badRate.stderr, /--rate: "fast" is not a number/);
    const badOp = await runFlotilla(
      ['jobs', 'create', '--operation', 'explode', '--device', 'cli-job-1'],
      env,
    );
    assert.equal(badOp.code, 1);
    assert.match(badOp.stderr, /body\.operation/);
  });

  it('waits for a job with a progress bar and fails when executions failed', async () => {
    const result = await runFlotilla(
      [
        'jobs',
        'create',
        '--operation',
        'command',
        '--command',
        'nope',
        '--device',
        'cli-job-1',
        '--device',
        'cli-job-2',
        '--wait',
      ],
      env,
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\[#+\] 2\/2 executions finished/);
    assert.match(result.stdout, /completed: failed 2/);
  });
});
