/** `flotilla alerts rules …` and `flotilla fleet summary`, run as a user runs them against a real server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { runFlotilla } from '../helpers/flotilla-cli.ts';
import { commandHelp } from '../helpers/cli-help.ts';

const flotilla = runFlotilla;

describe('flotilla alerts rules and fleet summary', () => {
  let fx: ServerFixture;
  let env: Record<string, string>;
  before(async () => {
    fx = await createServerFixture();
    env = { FLOTILLA_URL: `http://127.0.0.1:${fx.httpPort}` };
    const store = fx.server().store;
    for (const [id, model] of [
      ['f1', 'tracker-2'],
      ['f2', 'tracker-2'],
      ['f3', 'sensor-1'],
    ] as const)
      await store.createDevice({ id, serial: `SN-${id}`, hardwareModel: model }, Date.now());
    await store.recordConnected('f1', 'SN-f1', Date.now());
  });
  after(async () => {
    await fx?.close();
  });

  it('drives rules and the summary from the CLI', async () => {
    for (const path of [
      ['alerts', 'rules', 'create'],
      ['fleet', 'summary'],
    ])
      assert.match(commandHelp(path), new RegExp(`Usage: flotilla ${path.join(' ')}`));
    const created = await flotilla(
      [
        'alerts',
        'rules',
        'create',
        'cli-temp',
        '--metric',
        'temperature',
        '--operator',
        '>',
        '--level',
        'warning=70',
        '--level',
        'critical=85',
        '--for',
        '5m',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const refused = await flotilla(
      [
        'alerts',
        'rules',
        'create',
        'cli-bad',
        '--metric',
        'signal',
        '--operator',
        '>',
        '--level',
        'warning=10',
      ],
      env,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /body\.levels\.0\.threshold/);
    assert.equal((await flotilla(['alerts', 'rules', 'disable', 'cli-temp'], env)).code, 0);
    const list = await flotilla(['alerts', 'rules', 'list'], env);
    assert.match(
      list.stdout,
      /^cli-temp\s+device\s+no\s+temperature: warning > 70, critical > 85\s+5m\s+user$/m,
    );
    const shown = JSON.parse((await flotilla(['alerts', 'rules', 'show', 'cli-temp'], env)).stdout) as {
      rule: { levels: unknown[] };
    };
    assert.equal(shown.rule.levels.length, 2);
    assert.equal((await flotilla(['alerts', 'rules', 'delete', 'cli-temp'], env)).code, 0);

    const summary = await flotilla(['fleet', 'summary', '--json', '--where', 'model = "tracker-2"'], env);
    assert.equal(summary.code, 0, summary.stderr);
    assert.equal((JSON.parse(summary.stdout) as { devices: { total: number } }).devices.total, 2);
    const text = await flotilla(['fleet', 'summary'], env);
    assert.match(text.stdout, /^devices\s+3, online 1 \(33\.3 %\)$/m);
  });
});
