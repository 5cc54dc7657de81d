/** The agent daemon's config file, and the daemon end to end against Mosquitto. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { parseAgentConfig, agentOptionsFromConfig } from '../../src/agent/config.ts';
import { runAgentDaemon } from '../../src/agent/daemon.ts';
import { waitForShutdown, type SignalSource } from '../../src/agent/shutdown.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { ConfigError } from '../../src/infra/errors.ts';
import {
  deviceCert,
  startMosquitto,
  startObserver,
  type MosquittoFixture,
  type ObservedMessage,
} from '../helpers/mosquitto-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const valid = {
  deviceId: 'dev-daemon',
  serverUrl: 'mqtts://127.0.0.1:8883',
  caFile: 'pki/chain.pem',
  certFile: 'dev-daemon.pem',
  keyFile: 'dev-daemon.key',
  serial: 'SN-dev-daemon',
  hardware: { model: 'gateway-x1', revision: '1.1' },
  firmwareVersion: '1.8.0',
};

function configError(text: string, name: string): string {
  try {
    parseAgentConfig(text, name);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('agent config', () => {
  it('reads the update section with defaults, and names each wrong update field', () => {
    const update = {
      deviceHttpUrl: 'https://fleet.example:8443',
      tufRootFile: 'root.json',
      slots: { a: '/dev/mmcblk0p2', b: '/dev/mmcblk0p3', capacityBytes: 64 * 1024 * 1024 },
      boot: { kind: 'uboot' },
    };
    const config = parseAgentConfig(JSON.stringify({ ...valid, update }), 'agent.json');
    assert.equal(config.update?.pollIntervalS, 6 * 60 * 60);
    assert.equal(config.update?.health.rounds, 3);
    assert.deepEqual(config.update?.rebootCommand, ['systemctl', 'reboot']);
    assert.deepEqual(config.update?.boot, { kind: 'uboot', scriptFile: '/run/flotilla-fw_setenv.script' });
    const message = configError(
      JSON.stringify({
        ...valid,
        update: { ...update, deviceHttpUrl: 'http://x', slots: { a: 'a.img' }, boot: { kind: 'lilo' } },
      }),
      'agent.json',
    );
    assert.match(message, /update\.deviceHttpUrl: must look like https:\/\/host:port/);
    assert.match(message, /update\.slots\.b: is required/);
    assert.match(message, /update\.boot\.kind/);
  });

  it('parses YAML and JSON and fills defaults', () => {
    const fromJson = parseAgentConfig(JSON.stringify(valid), 'agent.json');
    assert.equal(fromJson.heartbeatIntervalS, 60);
    assert.deepEqual(fromJson.backoff, { initialMs: 1000, maxMs: 60_000 });
    const yaml = 'deviceId: d1\nserverUrl: mqtts://h:8883\ncaFile: a\ncertFile: b\nkeyFile: c\nserial: s\n';
    const fromYaml = parseAgentConfig(
      `${yaml}hardware: {model: m, revision: r}\nfirmwareVersion: "1.0"\nheartbeatIntervalS: 5\n`,
      'agent.yaml',
    );
    assert.equal(fromYaml.heartbeatIntervalS, 5);
  });

  it('names the offending fields', () => {
    const bad = { ...valid, serverUrl: 'mqtt://plain:1883', hardware: { model: 'm' }, extra: 1 };
    const message = configError(JSON.stringify(bad), 'agent.json');
    assert.match(message, /agent\.json/);
    assert.match(message, /serverUrl: must look like mqtts:\/\/host:port/);
    assert.match(message, /hardware\.revision/);
    assert.match(message, /extra/);
    assert.match(configError('deviceId: [', 'agent.yaml'), /not valid YAML/);
    assert.match(configError(JSON.stringify({ ...valid, tags: { 'Bad Key': 'x' } }), 'a.json'), /tags/);
  });

  it('parses the zero-touch form: provisioning and a state dir instead of a certificate', () => {
    const config = parseAgentConfig(
      [
        'stateDir: /var/lib/flotilla',
        'provisioning:',
        '  serial: TR2-0001',
        '  url: https://fleet.example.com:8443',
        '  claimCertFile: claim.pem',
        '  claimKeyFile: claim.key',
        '  caChainFile: ca-chain.pem',
        'hardware: {model: tracker-2, revision: B}',
        'firmwareVersion: 2.4.1',
      ].join('\n'),
      'agent.yaml',
    );
    assert.equal(config.identity.kind, 'provisioning');
    assert.equal(config.serial, 'TR2-0001', 'the reported serial defaults to the provisioning serial');
    assert.deepEqual(config.renewal, { atFraction: 2 / 3, checkIntervalS: 3600 });
    const factory = parseAgentConfig(JSON.stringify(valid), 'agent.json');
    assert.deepEqual(factory.identity, {
      kind: 'certificate',
      deviceId: 'dev-daemon',
      serverUrl: 'mqtts://127.0.0.1:8883',
      caFile: 'pki/chain.pem',
      certFile: 'dev-daemon.pem',
      keyFile: 'dev-daemon.key',
    });
  });

  it('names what is missing or misplaced in either form', () => {
    const provisioning = {
      serial: 'TR2-0001',
      url: 'mqtts://fleet:8883',
      claimCertFile: 'claim.pem',
      claimKeyFile: 'claim.key',
      caChainFile: 'ca-chain.pem',
    };
    const common = { hardware: valid.hardware, firmwareVersion: valid.firmwareVersion };
    const mixed = configError(JSON.stringify({ ...common, provisioning, certFile: 'x.pem' }), 'a.json');
    assert.match(mixed, /certFile: not used with provisioning/);
    assert.match(mixed, /stateDir: is required with provisioning/);
    const badUrl = { ...common, stateDir: 's', provisioning: { ...provisioning, url: 'http://fleet' } };
    assert.match(configError(JSON.stringify(badUrl), 'a.json'), /provisioning\.url: must look like mqtts/);
    const neither = configError(JSON.stringify(common), 'a.json');
    for (const field of ['deviceId', 'serverUrl', 'caFile', 'certFile', 'keyFile', 'serial']) {
      assert.match(neither, new RegExp(`${field}: is required \\(or configure provisioning\\)`));
    }
    const fraction = { ...valid, renewal: { atFraction: 1.5 } };
    assert.match(configError(JSON.stringify(fraction), 'a.json'), /renewal\.atFraction/);
  });

  it('names the file field that cannot be read', async () => {
    const config = parseAgentConfig(JSON.stringify(valid), 'agent.json');
    await assert.rejects(agentOptionsFromConfig(config, '/nonexistent/agent.json'), /caFile: /);
  });
});

describe('waitForShutdown', () => {
  it('resolves on the first signal and removes its listeners', async () => {
    const listeners = new Map<string, () => void>();
    const signals: SignalSource = {
      once: (event, listener) => listeners.set(event, listener),
      off: (event) => listeners.delete(event),
    };
    const waiting = waitForShutdown({ signals });
    listeners.get('SIGTERM')?.();
    assert.equal(await waiting, 'SIGTERM');
    assert.equal(listeners.size, 0);
    assert.equal(await waitForShutdown({ signals, signal: AbortSignal.abort() }), 'aborted');
  });
});

describe('agent daemon', () => {
  let broker: MosquittoFixture;
  let observer: { client: MqttClient; messages: ObservedMessage[] };
  before(async () => {
    broker = await startMosquitto();
    observer = await startObserver(broker.plainPort);
  });
  after(async () => {
    await observer?.client.endAsync(true);
    await broker?.close();
  });

  it('runs from a config file until shut down', async () => {
    const cert = await deviceCert(broker.pki, 'dev-daemon');
    await writeFile(join(broker.dataDir, 'dev-daemon.pem'), cert.certPem);
    await writeFile(join(broker.dataDir, 'dev-daemon.key'), cert.keyPem, { mode: 0o600 });
    const configPath = join(broker.dataDir, 'agent.yaml');
    // Relative paths resolve against the config file's directory.
    await writeFile(configPath, JSON.stringify({ ...valid, serverUrl: broker.tlsUrl }));
    const noop = () => undefined;
    const logger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
    const shutdown = new AbortController();
    const running = runAgentDaemon(configPath, {
      clock: { now: () => Date.now() },
      timers: systemTimers,
      random: Math.random,
      logger,
      shutdownSignal: shutdown.signal,
    });
    const topic = 'fl/d/dev-daemon/state/reported';
    await waitFor(() => observer.messages.some((m) => m.topic === topic), { what: 'daemon report' });
    shutdown.abort();
    await running;
  });
});
