/** `flotilla config …`, run as a user runs it, against a real server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runFlotilla as flotilla } from '../helpers/flotilla-cli.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { commandHelp } from '../helpers/cli-help.ts';

describe('flotilla config', () => {
  let fx: ServerFixture;
  let env: Record<string, string>;
  before(async () => {
    fx = await createServerFixture();
    env = { FLOTILLA_URL: `http://127.0.0.1:${fx.httpPort}` };
    for (const id of ['c1', 'c2'])
      await fx
        .server()
        .store.createDevice(
          { id, serial: `SN-${id}`, hardwareModel: 'm', firmwareVersion: '1.0.0' },
          Date.now(),
        );
    const group = await flotilla(['groups', 'create', 'only-c1', '--where', 'id = "c1"'], env);
    assert.equal(group.code, 0, group.stderr);
  });
  after(async () => {
    await fx?.close();
  });

  it('prints help for every subcommand', async () => {
    const result = await flotilla(['config', '--help'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Usage: flotilla config/);
    for (const sub of ['get', 'set', 'unset', 'defaults', 'group-set', 'bulk'])
      assert.match(commandHelp(['config', sub]), new RegExp(`Usage: flotilla config ${sub}`));
  });

  it('sets, shows and unsets keys of a device', async () => {
    const set = await flotilla(
      ['config', 'set', 'c1', 'heartbeat.intervalS=30', 'log.level=debug', '--json'],
      env,
    );
    assert.equal(set.code, 0, set.stderr);
    const view = JSON.parse(set.stdout) as { desired: { values: Record<string, unknown>; version: number } };
    assert.deepEqual(view.desired.values, { 'heartbeat.intervalS': 30, 'log.level': 'debug' });
    const human = await flotilla(['config', 'get', 'c1'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /heartbeat\.intervalS\s+30\s+device/);
    assert.match(human.stdout, /has not declared its schema yet/);
    const stale = await flotilla(['config', 'unset', 'c1', 'log.level', '--expected-version', '0'], env);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /version 1, not 0/);
    const unset = await flotilla(
      ['config', 'unset', 'c1', 'log.level', '--expected-version', '1', '--json'],
      env,
    );
    assert.equal(unset.code, 0, unset.stderr);
    assert.deepEqual((JSON.parse(unset.stdout) as typeof view).desired.values, { 'heartbeat.intervalS': 30 });
    const bad = await flotilla(['config', 'set', 'c1', 'no-equals-sign'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expected key=value/);
  });

  it('edits fleet and group defaults and shows the sources', async () => {
    const fleet = await flotilla(['config', 'defaults', 'telemetry.sendS=60'], env);
    assert.equal(fleet.code, 0, fleet.stderr);
    assert.match(fleet.stdout, /2 devices affected/);
    const group = await flotilla(
      ['config', 'group-set', 'only-c1', 'telemetry.sendS=10', '--priority', '2'],
      env,
    );
    assert.equal(group.code, 0, group.stderr);
    assert.match(group.stdout, /1 devices affected/);
    const all = await flotilla(['config', 'defaults'], env);
    assert.match(all.stdout, /fleet\s+telemetry\.sendS\s+60/);
    assert.match(all.stdout, /group:only-c1\s+2\s+telemetry\.sendS\s+10/);
    const c1 = await flotilla(['config', 'get', 'c1'], env);
    assert.match(c1.stdout, /telemetry\.sendS\s+10\s+group:only-c1/);
    const c2 = await flotilla(['config', 'get', 'c2'], env);
    assert.match(c2.stdout, /telemetry\.sendS\s+60\s+fleet/);
  });

  it('bulk edits with a dry run', async () => {
    const dry = await flotilla(
      ['config', 'bulk', '--ids', 'c1,c2,zz', 'led.on=true', '--dry-run', '--json'],
      env,
    );
    assert.equal(dry.code, 0, dry.stderr);
    const result = JSON.parse(dry.stdout) as { matched: number; changed: number; notFound: string[] };
    assert.deepEqual([result.matched, result.changed, result.notFound], [2, 0, ['zz']]);
    const done = await flotilla(['config', 'bulk', '--where', 'id = "c2"', 'led.on=true'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /1 matched, 1 changed/);
  });
});
