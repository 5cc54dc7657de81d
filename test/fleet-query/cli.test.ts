/** `flotilla devices list|count --where`, `--group` and `flotilla groups`, run as a user runs them. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { runFlotilla } from '../helpers/flotilla-cli.ts';
import { commandHelp } from '../helpers/cli-help.ts';

const flotilla = runFlotilla;

describe('flotilla devices --where', () => {
  let fx: ServerFixture;
  let env: Record<string, string>;
  before(async () => {
    fx = await createServerFixture();
    env = { FLOTILLA_URL: `http://127.0.0.1:${fx.httpPort}` };
    const store = fx.server().store;
    for (const [id, model, firmware] of [
      ['w1', 'tracker-2', '2.3.0'],
      ['w2', 'tracker-2', '2.10.0'],
      ['w3', 'sensor-1', '2.3.0'],
    ] as const) {
      await store.createDevice(
        { id, serial: `SN-${id}`, hardwareModel: model, firmwareVersion: firmware },
        Date.now(),
      );
    }
  });
  after(async () => {
    await fx?.close();
  });

  it('prints help for the new commands', async () => {
    for (const path of [
      ['devices', 'count'],
      ['groups'],
      ['groups', 'create'],
      ['groups', 'list'],
      ['groups', 'delete'],
    ])
      assert.match(commandHelp(path), new RegExp(`Usage: flotilla ${path.join(' ')}`));
    const list = await flotilla(['devices', 'list', '--help'], env);
    assert.match(list.stdout, /--where <query>/);
  });

  const ids = (stdout: string) =>
    (JSON.parse(stdout) as { items: Array<{ id: string }> }).items.map((d) => d.id);

  it('lists and counts the matching devices', async () => {
    const list = await flotilla(
      ['devices', 'list', '--where', 'model = "tracker-2" and firmware < 2.4.0', '--json'],
      env,
    );
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(ids(list.stdout), ['w1']);

    const table = await flotilla(['devices', 'list', '--where', 'firmware >= 2.4.0'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /w2 .*tracker-2/);
    assert.doesNotMatch(table.stdout, /w1|w3/);

    const count = await flotilla(['devices', 'count', '--where', 'firmware = 2.3.0'], env);
    assert.deepEqual([count.code, count.stdout], [0, '2\n']);
    const countJson = await flotilla(['devices', 'count', '--model', 'sensor-1', '--json'], env);
    assert.deepEqual(JSON.parse(countJson.stdout), { count: 1 });
  });

  it('prints a bad query with a caret under the error and exits 1', async () => {
    const bad = await flotilla(['devices', 'list', '--where', 'model = "tracker-2" and firmware < 2.4'], env);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      'flotilla: invalid fleet query at line 1, column 36: firmware is a version, not a number; write a full version like 2.4.0\n' +
        '  model = "tracker-2" and firmware < 2.4\n' +
        '                                     ^^^\n',
    );
  });

  it('saves a group and lists its devices with --group', async () => {
    const created = await flotilla(['groups', 'create', 'old-firmware', '--where', 'firmware < 2.4.0'], env);
    assert.equal(created.code, 0, created.stderr);
    const list = await flotilla(
      ['devices', 'list', '--group', 'old-firmware', '--where', 'model = "sensor-1"', '--json'],
      env,
    );
    assert.deepEqual(ids(list.stdout), ['w3']);
    const groups = await flotilla(['groups', 'list', '--json'], env);
    assert.deepEqual(
      (JSON.parse(groups.stdout) as { items: Array<{ name: string; query: string }> }).items.map((g) => [
        g.name,
        g.query,
      ]),
      [['old-firmware', 'firmware < 2.4.0']],
    );
    const bad = await flotilla(['groups', 'create', 'broken', '--where', 'firmware <'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /expected a value, found end of query/);
    const deleted = await flotilla(['groups', 'delete', 'old-firmware'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
  });
});
