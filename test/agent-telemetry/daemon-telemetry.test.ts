/** The daemon's `telemetry:` section, the Linux health source, and the daemon sending telemetry. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAgentConfig } from '../../src/agent/config.ts';
import { runAgentDaemon } from '../../src/agent/daemon.ts';
import { linuxHealthSource } from '../../src/agent/telemetry/linux-health.ts';
import { settingsFromConfig } from '../../src/agent/telemetry/telemetry-config.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { ConfigError } from '../../src/infra/errors.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { deviceCert, startMosquitto, type MosquittoFixture } from '../helpers/mosquitto-fixture.ts';
import { startMqttResponder, type MqttResponder } from '../helpers/telemetry-responder.ts';
import { waitFor } from '../helpers/wait.ts';

const base = {
  deviceId: 'dev-tm',
  serverUrl: 'mqtts://127.0.0.1:8883',
  caFile: 'pki/chain.pem',
  certFile: 'dev-tm.pem',
  keyFile: 'dev-tm.key',
  serial: 'SN-dev-tm',
  hardware: { model: 'gateway-x1', revision: '1.1' },
  firmwareVersion: '1.8.0',
};

const parse = (telemetry: unknown) => parseAgentConfig(JSON.stringify({ ...base, telemetry }), 'a.json');

describe('telemetry config', () => {
  it('is on by default with a state dir, off with `false`, and takes every default', () => {
    const withState = (extra: Record<string, unknown>) =>
      parseAgentConfig(JSON.stringify({ ...base, stateDir: 'state', ...extra }), 'a.json').telemetry;
    assert.deepEqual(withState({}), parse({}).telemetry, 'no section = every default');
    assert.equal(withState({ telemetry: false }), undefined);
    // Without a state dir there is nowhere to queue: off unless the section names a dir.
    assert.equal(parseAgentConfig(JSON.stringify(base), 'a.json').telemetry, undefined);
    assert.equal(parse(false).telemetry, undefined);
    assert.equal(withState({ telemetry: { enabled: false } }), undefined);
    assert.throws(() => parse(true), /telemetry/);
    const config = parse({}).telemetry;
    assert.ok(config);
    assert.equal(config.transport, 'mqtt');
    assert.deepEqual(settingsFromConfig(config), {
      health: { sampleMs: 60_000, windowMs: 300_000 },
      app: { sampleMs: 10_000, windowMs: 60_000 },
      sendMs: 30_000,
      metrics: {},
    });
    assert.deepEqual(config.outbox, { maxBytes: 8 * 1024 * 1024, maxBatches: 10_000 });
  });

  it('takes per-metric overrides and refuses windows that are not whole sample periods', () => {
    const config = parse({ metrics: { battery_pct: { sampleS: 300, windowS: 3600 } } }).telemetry;
    assert.deepEqual(config && settingsFromConfig(config).metrics, {
      battery_pct: { sampleMs: 300_000, windowMs: 3_600_000 },
    });
    assert.throws(
      () => parse({ metrics: { battery_pct: { sampleS: 7 } } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /metrics\.battery_pct/);
        return true;
      },
    );
    assert.throws(() => parse({ transport: 'carrier-pigeon' }), /telemetry\.transport/);
    assert.throws(() => parse({ metrics: { 'Bad Name': {} } }), /telemetry\.metrics/);
  });
});

describe('linux health source', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flotilla-proc-'));
    await mkdir(join(root, 'proc'));
    await writeFile(join(root, 'proc', 'uptime'), '12345.67 400.00\n');
    await writeFile(
      join(root, 'proc', 'meminfo'),
      'MemTotal:       1000 kB\nMemFree: 100 kB\nMemAvailable:    250 kB\n',
    );
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads what the device has and leaves out what it does not', async () => {
    const names = [
      'uptime_s',
      'memory_used_pct',
      'storage_used_pct',
      'temperature_c',
      'battery_pct',
      'signal_dbm',
    ];
    const source = linuxHealthSource({
      dataDir: root,
      procRoot: join(root, 'proc'),
      sysRoot: join(root, 'sys'),
    });
    const without = source.read(names, Date.now());
    assert.equal(without.uptime_s, 12345);
    assert.equal(without.memory_used_pct, 75);
    assert.ok((without.storage_used_pct ?? -1) >= 0);
    assert.deepEqual(
      Object.keys(without).sort(),
      ['memory_used_pct', 'storage_used_pct', 'uptime_s'],
      'no thermal zone, battery or modem: skipped, not faked',
    );
    await mkdir(join(root, 'sys', 'class', 'thermal', 'thermal_zone0'), { recursive: true });
    await writeFile(join(root, 'sys', 'class', 'thermal', 'thermal_zone0', 'temp'), '48500\n');
    await mkdir(join(root, 'sys', 'class', 'power_supply', 'AC'), { recursive: true });
    await mkdir(join(root, 'sys', 'class', 'power_supply', 'BAT0'), { recursive: true });
    await writeFile(join(root, 'sys', 'class', 'power_supply', 'BAT0', 'capacity'), '87\n');
    const withHardware = source.read(names, Date.now());
    assert.equal(withHardware.temperature_c, 48.5);
    assert.equal(withHardware.battery_pct, 87);
  });
});

describe('agent daemon with telemetry', () => {
  let broker: MosquittoFixture;
  let responder: MqttResponder;
  before(async () => {
    broker = await startMosquitto();
    responder = await startMqttResponder(broker.plainPort);
  });
  /** Every daemon started; stopped after the test whatever happened (one left running keeps the process alive). */
  const daemons: Array<{ stop(): Promise<void> }> = [];
  after(async () => {
    await Promise.allSettled(daemons.map((daemon) => daemon.stop()));
    await responder?.close();
    await broker?.close();
  });

  it('sends its boot event and Linux health windows, and keeps what is left for the next start', async () => {
    const cert = await deviceCert(broker.pki, 'dev-tm');
    await writeFile(join(broker.dataDir, 'dev-tm.pem'), cert.certPem);
    await writeFile(join(broker.dataDir, 'dev-tm.key'), cert.keyPem, { mode: 0o600 });
    const configPath = join(broker.dataDir, 'agent-tm.json');
    const telemetry = { dir: 'tm-outbox', health: { sampleS: 0.2, windowS: 1 }, sendS: 1 };
    await writeFile(configPath, JSON.stringify({ ...base, serverUrl: broker.tlsUrl, telemetry }));
    const noop = () => undefined;
    const logger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
    const run = () => {
      const shutdown = new AbortController();
      const running = runAgentDaemon(configPath, {
        clock: { now: () => Date.now() },
        timers: systemTimers,
        random: Math.random,
        logger,
        shutdownSignal: shutdown.signal,
      });
      const daemon = { stop: () => (shutdown.abort(), running) };
      daemons.push(daemon);
      return daemon;
    };
    const batches = () => [...(responder.ingest.stored.get('dev-tm')?.values() ?? [])];
    const first = run();
    await waitFor(() => batches().some((b) => b.windows.some((w) => w.values.memory_used_pct)), {
      what: 'a health window',
    });
    const boot = batches().flatMap((b) => b.events)[0];
    assert.equal(boot?.type, 'boot');
    assert.equal(boot?.code, 'agent_start');
    const health = batches()
      .flatMap((b) => b.windows)
      .find((w) => w.values.uptime_s);
    assert.ok(health?.values.storage_used_pct, 'storage of the data dir');

    // Stopped while the broker is down: the last windows stay on disk and go out after a restart.
    await broker.kill();
    await first.stop();
    const left = (await readdir(join(broker.dataDir, 'tm-outbox'))).filter((n) => n.startsWith('batch-'));
    assert.ok(left.length > 0, 'partial windows queued at stop');
    const leftSeqs = left.map((name) => Number(name.slice('batch-'.length, 'batch-'.length + 16)));
    await broker.start();
    // The stand-in ingest must be subscribed again before the agent publishes: a batch published to
    // a broker with no subscriber is dropped, and the agent would resend it only after its 30 s ack
    // timeout (a race that a busy machine loses).
    await waitFor(() => responder.client.connected, { what: 'the stand-in ingest reconnected' });
    await responder.client.subscribeAsync('fl/d/+/telemetry', { qos: 1 });
    const second = run();
    await waitFor(() => leftSeqs.every((seq) => responder.ingest.seqs('dev-tm').includes(seq)), {
      what: 'the queue from before the restart delivered',
      // Long enough for one resend after the agent's ack timeout, should an ack still be lost.
      timeoutMs: 60_000,
    });
    // Numbering went on after the restart: what the second run sends comes after the first run's.
    const before = new Set(responder.ingest.seqs('dev-tm'));
    await waitFor(() => responder.ingest.seqs('dev-tm').some((seq) => !before.has(seq)), {
      what: 'a batch of the second run',
    });
    await second.stop();
    const sentLater = responder.ingest.seqs('dev-tm').filter((seq) => !before.has(seq));
    const queuedLater = (await readdir(join(broker.dataDir, 'tm-outbox')))
      .filter((n) => n.startsWith('batch-'))
      .map((name) => Number(name.slice('batch-'.length, 'batch-'.length + 16)));
    for (const seq of [...sentLater, ...queuedLater]) assert.ok(seq > Math.max(...leftSeqs), `seq ${seq}`);
  });
});
