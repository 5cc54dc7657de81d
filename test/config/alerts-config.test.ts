/** The alerts section of the server config: defaults, file and environment, refusals naming the field. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildChannels } from '../../src/alerts/channels/build-channels.ts';
import { loadServerConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/infra/errors.ts';
import { systemClock } from '../../src/infra/clock.ts';

const refusal = (config: unknown): string => {
  try {
    loadServerConfig({
      env: { FLOTILLA_ALERTS_CHANNELS: '', FLOTILLA_ALERTS_ESCALATION: JSON.stringify(config) },
    });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('accepted');
};

describe('alerts configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-alerts-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('defaults to every severity on the log at once and nothing external', () => {
    const { alerts } = loadServerConfig({ env: {} });
    assert.deepEqual(alerts.channels, {});
    for (const severity of ['info', 'warning', 'critical'] as const)
      assert.deepEqual(alerts.escalation.policies[severity], [{ afterS: 0, channels: ['log'] }]);
    assert.equal(alerts.escalation.notifyResolved, true);
  });

  it('reads channels and policies from a file and from the environment', async () => {
    const file = join(dir, 'flotilla.yaml');
    await writeFile(
      file,
      [
        'alerts:',
        '  channels:',
        '    team: {type: webhook, url: "https://hooks.example.com/x", secretFile: /etc/flotilla/hook.key}',
        '    oncall: {type: email, host: smtp.example.com, from: flotilla@example.com, to: [oncall@example.com]}',
        '  escalation:',
        '    policies:',
        '      warning: [{afterS: 0, channels: [team]}, {afterS: 1800, channels: [oncall]}]',
      ].join('\n'),
    );
    const fromFile = loadServerConfig({ file, env: {} }).alerts;
    assert.equal(fromFile.channels['team']?.type, 'webhook');
    assert.equal(fromFile.channels['oncall']?.type === 'email' && fromFile.channels['oncall'].port, 587);
    assert.deepEqual(fromFile.escalation.policies.warning[1], { afterS: 1800, channels: ['oncall'] });
    assert.deepEqual(fromFile.escalation.policies.critical, [{ afterS: 0, channels: ['log'] }]);

    const fromEnv = loadServerConfig({
      env: {
        FLOTILLA_ALERTS_CHANNELS: JSON.stringify({
          hook: { type: 'webhook', url: 'http://127.0.0.1:9/h', secret: '0123456789abcdef', maxAttempts: 2 },
        }),
        FLOTILLA_ALERTS_ESCALATION: JSON.stringify({
          policies: { critical: [{ afterS: 0, channels: ['hook', 'log'] }] },
        }),
      },
    }).alerts;
    const hook = fromEnv.channels['hook'];
    assert.equal(hook?.type === 'webhook' && hook.maxAttempts, 2);
    assert.deepEqual(fromEnv.escalation.policies.critical[0]?.channels, ['hook', 'log']);
    assert.throws(
      () => loadServerConfig({ env: { FLOTILLA_ALERTS_CHANNELS: '{nope' } }),
      /alerts\.channels: FLOTILLA_ALERTS_CHANNELS is not valid JSON/,
    );
  });

  it('refuses an unknown channel, decreasing delays, a bad URL or a missing secret, naming the field', () => {
    assert.match(
      refusal({ policies: { warning: [{ afterS: 0, channels: ['pager'] }] } }),
      /alerts\.escalation\.policies\.warning\.0\.channels\.0: unknown channel "pager"/,
    );
    assert.match(
      refusal({
        policies: {
          critical: [
            { afterS: 600, channels: ['log'] },
            { afterS: 60, channels: ['log'] },
          ],
        },
      }),
      /alerts\.escalation\.policies\.critical\.1\.afterS: steps must have increasing delays/,
    );
    const badChannel = (channel: unknown): string => {
      try {
        loadServerConfig({ env: { FLOTILLA_ALERTS_CHANNELS: JSON.stringify({ hook: channel }) } });
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    assert.match(
      badChannel({ type: 'webhook', url: 'ftp://example.com/x', secret: '0123456789abcdef' }),
      /alerts\.channels\.hook\.url: an http:\/\/ or https:\/\/ URL/,
    );
    assert.match(
      badChannel({ type: 'webhook', url: 'https://example.com/x' }),
      /alerts\.channels\.hook\.secret: exactly one of secret and secretFile/,
    );
    assert.match(
      badChannel({ type: 'email', host: 'smtp', from: 'not-an-address', to: ['a@example.com'] }),
      /alerts\.channels\.hook\.from/,
    );
    assert.match(badChannel({ type: 'pager' }), /alerts\.channels\.hook\.type/);
  });

  it('reads a webhook secret from its file and refuses a missing or short one', async () => {
    const keyFile = join(dir, 'hook.key');
    await writeFile(keyFile, 'a-long-enough-webhook-secret\n');
    const config = (secretFile: string) =>
      loadServerConfig({
        env: {
          FLOTILLA_ALERTS_CHANNELS: JSON.stringify({
            hook: { type: 'webhook', url: 'https://e.example/h', secretFile },
          }),
        },
      }).alerts;
    const deps = { clock: systemClock, logger: pino({ level: 'silent' }) };
    const channels = await buildChannels(config(keyFile), deps);
    assert.deepEqual(channels.map((c) => c.name).sort(), ['hook', 'log']);
    await assert.rejects(
      buildChannels(config(join(dir, 'missing.key')), deps),
      /alerts\.channels\.hook\.secretFile/,
    );
    await writeFile(join(dir, 'short.key'), 'short');
    await assert.rejects(buildChannels(config(join(dir, 'short.key')), deps), /shorter than 16/);
  });
});
