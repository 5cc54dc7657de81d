/**
 * Zero-touch provisioning from the device's side, against a real server over real TLS: the agent
 * daemon provisions over MQTT and HTTPS and comes online with its own identity, keeps it across
 * restarts and power loss, stops on a refusal with the reason, renews its certificate without
 * going offline; and 1,000 simulated devices provision themselves from a factory batch directory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgent } from '../../src/agent/agent.ts';
import { runAgentDaemon } from '../../src/agent/daemon.ts';
import { provisionDevice, type ProvisionedIdentity } from '../../src/agent/provisioning.ts';
import { ProvisioningRefusedError } from '../../src/agent/provisioning-errors.ts';
import type { AgentLogger, DisconnectInfo, RenewedCertificate } from '../../src/agent/types.ts';
import type { Device, FleetSummary } from '../../src/contracts/device.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { exportKeyPem, generateKeyPair } from '../../src/pki/x509.ts';
import type { BatchCredential } from '../../src/provisioning/factory-service.ts';
import { batchProvisioning, readFactoryBatchDir } from '../../src/sim/batch-dir.ts';
import { startSimulation } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const HOUR_MS = 60 * 60 * 1000;
const hexSerial = (hex: string) => hex.toLowerCase().replace(/^0+/, '');
const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

interface LogLine {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

function recordingLogger(lines: LogLine[] = []): AgentLogger & { lines: LogLine[] } {
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) =>
    lines.push({ level, msg, obj });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function postJson<T>(
  fx: ServerFixture,
  path: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${fx.httpPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const isOnline = async (fx: ServerFixture, id: string) => {
  const { status, body } = await fx.api<Device>(`/api/v1/devices/${id}`);
  return status === 200 && body.connectionState === 'online';
};

const certificateCount = async (fx: ServerFixture, id: string) =>
  (await fx.api<{ items: unknown[] }>(`/api/v1/devices/${id}/certificates`)).body.items.length;

const provisionedAudits = async (fx: ServerFixture, serial: string) =>
  (await fx.api<{ items: Array<{ action: string }> }>(`/api/v1/audit?target=${serial}`)).body.items.filter(
    (entry) => entry.action === 'device.provisioned',
  ).length;

describe('agent daemon provisioning', () => {
  let fx: ServerFixture;
  let dir: string;
  let batch: BatchCredential;
  const daemons: Array<{ stop(): Promise<void> }> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-agent-prov-'));
    // One-day certificates: renewal is then due after 16 h, which the tests' clocks skip ahead.
    fx = await createServerFixture({ provisioning: { deviceCertValidityDays: 1 } });
    const created = await postJson<BatchCredential>(fx, '/api/v1/factory/batches', {
      serials: ['AP-MQTT', 'AP-HTTPS', 'AP-POWER', 'AP-LOST', 'AP-LIB', 'AP-RENEW'],
      hardwareModel: 'gateway-x1',
      hardwareRevision: '1.1',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    batch = created.body;
    await writeFile(join(dir, 'claim.pem'), batch.claim.certificatePem);
    await writeFile(join(dir, 'claim.key'), batch.claim.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'ca-chain.pem'), batch.caChainPem);
  });
  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A provisioning config for `serial` in the shared dir; its state dir is `state-<serial>`. */
  async function writeConfig(
    serial: string,
    { transport = 'mqtt', ...rest }: { transport?: 'mqtt' | 'https'; renewal?: object } = {},
  ): Promise<string> {
    const url = transport === 'https' ? batch.endpoints.httpsUrl : batch.endpoints.mqttUrl;
    const file = join(dir, `${serial}.json`);
    const config = {
      stateDir: `state-${serial}`,
      provisioning: {
        serial,
        url,
        claimCertFile: 'claim.pem',
        claimKeyFile: 'claim.key',
        caChainFile: 'ca-chain.pem',
      },
      hardware: { model: 'gateway-x1', revision: '1.1' },
      firmwareVersion: '1.8.0',
      backoff: { initialMs: 50, maxMs: 500 },
      ...rest,
    };
    await writeFile(file, JSON.stringify(config));
    return file;
  }

  function startDaemon(configFile: string, now: () => number = () => Date.now()) {
    const logger = recordingLogger();
    const shutdown = new AbortController();
    let failure: unknown;
    const running = runAgentDaemon(configFile, {
      clock: { now },
      timers: systemTimers,
      random: Math.random,
      logger,
      shutdownSignal: shutdown.signal,
      signals: { once: () => undefined, off: () => undefined },
    });
    running.catch((error: unknown) => (failure = error));
    const daemon = {
      logs: logger.lines,
      running,
      failed: () => failure,
      async stop() {
        shutdown.abort();
        await running.catch(() => undefined);
      },
    };
    daemons.push(daemon);
    return daemon;
  }

  async function untilOnline(daemon: ReturnType<typeof startDaemon>, id: string): Promise<void> {
    await waitFor(
      async () => {
        if (daemon.failed() !== undefined) throw daemon.failed();
        return isOnline(fx, id);
      },
      { what: `${id} online`, timeoutMs: 30_000 },
    );
  }

  const stateFile = (serial: string, name: string) => join(dir, `state-${serial}`, name);

  it('provisions over MQTT, stores its identity, and comes online with its own certificate', async () => {
    const daemon = startDaemon(await writeConfig('AP-MQTT'));
    await untilOnline(daemon, 'AP-MQTT');
    const files = (await readdir(join(dir, 'state-AP-MQTT'))).sort();
    // Telemetry is on by default: its outbox lives in the state dir.
    assert.deepEqual(files, ['ca-chain.pem', 'device.key', 'device.pem', 'server.json', 'telemetry']);
    assert.equal((await stat(stateFile('AP-MQTT', 'device.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'state-AP-MQTT'))).mode & 0o777, 0o700);
    const device = (await fx.api<Device>('/api/v1/devices/AP-MQTT')).body;
    assert.equal(device.hardwareModel, 'gateway-x1');
    assert.ok(daemon.logs.some((l) => l.msg === 'agent starting' && l.obj['identity'] === 'provisioned'));
    await daemon.stop();
    await waitFor(async () => !(await isOnline(fx, 'AP-MQTT')), { what: 'AP-MQTT offline after stop' });
  });

  it('uses the stored identity after a restart: no second provisioning', async () => {
    const certBefore = await readFile(stateFile('AP-MQTT', 'device.pem'), 'utf8');
    const daemon = startDaemon(join(dir, 'AP-MQTT.json'));
    await untilOnline(daemon, 'AP-MQTT');
    assert.ok(daemon.logs.some((l) => l.msg === 'agent starting' && l.obj['identity'] === 'state-dir'));
    assert.equal(daemon.logs.filter((l) => l.msg === 'provisioning').length, 0);
    assert.equal(await readFile(stateFile('AP-MQTT', 'device.pem'), 'utf8'), certBefore);
    assert.equal(await provisionedAudits(fx, 'AP-MQTT'), 1);
    assert.equal(await certificateCount(fx, 'AP-MQTT'), 1);
    await daemon.stop();
  });

  it('provisions over HTTPS', async () => {
    const daemon = startDaemon(await writeConfig('AP-HTTPS', { transport: 'https' }));
    await untilOnline(daemon, 'AP-HTTPS');
    const server = JSON.parse(await readFile(stateFile('AP-HTTPS', 'server.json'), 'utf8')) as {
      mqttUrl: string;
    };
    assert.equal(server.mqttUrl, batch.endpoints.mqttUrl, 'the MQTT address comes from the answer');
    assert.ok(daemon.logs.some((l) => l.msg === 'provisioning' && l.obj['transport'] === 'https'));
    await daemon.stop();
  });

  it('stops with the reason when the server refuses the serial, without retrying', async () => {
    const daemon = startDaemon(await writeConfig('AP-UNKNOWN'));
    await assert.rejects(daemon.running, (error: unknown) => {
      assert.ok(error instanceof ProvisioningRefusedError);
      assert.equal(error.code, 'unknown_serial');
      assert.match(error.message, /AP-UNKNOWN.*unknown_serial/);
      return true;
    });
    assert.equal(daemon.logs.filter((l) => l.msg === 'provisioning').length, 1, 'one attempt only');
    const refusal = daemon.logs.find((l) => l.msg === 'provisioning refused');
    assert.equal(refusal?.obj['code'], 'unknown_serial');
    assert.equal((await fx.api('/api/v1/devices/AP-UNKNOWN')).status, 404);
  });

  it('survives power loss between writing the key and the certificate', async () => {
    // A crash after the key was written but before the certificate: a key, and a half-written temp file.
    const state = join(dir, 'state-AP-POWER');
    await mkdir(state, { recursive: true, mode: 0o700 });
    const strayKey = await exportKeyPem((await generateKeyPair()).privateKey);
    await writeFile(join(state, 'device.key'), strayKey, { mode: 0o600 });
    await writeFile(join(state, 'device.pem.3f2a9c.tmp'), '-----BEGIN CERTIFICATE-----\nMIIB');
    const first = startDaemon(await writeConfig('AP-POWER'));
    await untilOnline(first, 'AP-POWER');
    assert.ok(first.logs.some((l) => l.msg === 'agent starting' && l.obj['identity'] === 'provisioned'));
    assert.notEqual(await readFile(join(state, 'device.key'), 'utf8'), strayKey);
    await first.stop();

    // A crash while storing a renewed pair: a staged key without its certificate.
    const cert = await readFile(join(state, 'device.pem'), 'utf8');
    await writeFile(join(state, 'device.next.key'), strayKey, { mode: 0o600 });
    await writeFile(join(state, 'device.next.pem.77aa01.tmp'), 'partial');
    const second = startDaemon(join(dir, 'AP-POWER.json'));
    await untilOnline(second, 'AP-POWER');
    assert.ok(second.logs.some((l) => l.msg === 'agent starting' && l.obj['identity'] === 'state-dir'));
    assert.equal(await readFile(join(state, 'device.pem'), 'utf8'), cert);
    assert.deepEqual((await readdir(state)).sort(), [
      'ca-chain.pem',
      'device.key',
      'device.pem',
      'server.json',
      'telemetry',
    ]);
    assert.equal(await provisionedAudits(fx, 'AP-POWER'), 1);
    await second.stop();
  });

  it('tells the operator when a provisioned device has lost its identity', async () => {
    // Provisioned, then the response was lost before the certificate reached the disk.
    await provisionDevice(
      {
        clock: { now: () => Date.now() },
        timers: systemTimers,
        random: Math.random,
        logger: recordingLogger(),
      },
      {
        transport: 'mqtt',
        mqttUrl: batch.endpoints.mqttUrl,
        serial: 'AP-LOST',
        claim: { certPem: batch.claim.certificatePem, keyPem: batch.claim.keyPem },
        caChainPem: batch.caChainPem,
      },
    );
    const state = join(dir, 'state-AP-LOST');
    await mkdir(state, { recursive: true, mode: 0o700 });
    await writeFile(join(state, 'device.key'), await exportKeyPem((await generateKeyPair()).privateKey));
    const daemon = startDaemon(await writeConfig('AP-LOST'));
    await assert.rejects(daemon.running, (error: unknown) => {
      assert.ok(error instanceof ProvisioningRefusedError);
      assert.equal(error.code, 'already_provisioned');
      assert.match(error.message, /operator/);
      return true;
    });
  });

  it('renews the certificate over its session before expiry and stays connected', async () => {
    let offsetMs = 0;
    const logger = recordingLogger();
    const deps = {
      clock: { now: () => Date.now() + offsetMs },
      timers: systemTimers,
      random: Math.random,
      logger,
    };
    const identity: ProvisionedIdentity = await provisionDevice(deps, {
      transport: 'https',
      httpsUrl: batch.endpoints.httpsUrl,
      serial: 'AP-LIB',
      claim: { certPem: batch.claim.certificatePem, keyPem: batch.claim.keyPem },
      caChainPem: batch.caChainPem,
    });
    const disconnects: DisconnectInfo[] = [];
    const renewed: RenewedCertificate[] = [];
    const agent = createAgent(deps, {
      deviceId: identity.deviceId,
      serverUrl: identity.mqttUrl,
      tls: { caPem: identity.caChainPem, certPem: identity.certPem, keyPem: identity.keyPem },
      identity: { serial: 'AP-LIB', hardware: { model: 'gateway-x1', revision: '1.1' } },
      firmwareVersion: '1.8.0',
      backoff: { initialMs: 50, maxMs: 500 },
      onDisconnected: (info) => disconnects.push(info),
      renewal: {
        checkIntervalMs: 50,
        onRenewed: (certificate) => {
          // Back to the real time, so the new certificate is not due at once.
          offsetMs = 0;
          renewed.push(certificate);
        },
      },
    });
    agent.start();
    try {
      await waitFor(() => isOnline(fx, 'AP-LIB'), { what: 'AP-LIB online' });
      assert.equal(renewed.length, 0, 'a fresh certificate is not renewed');
      offsetMs = 17 * HOUR_MS; // past 2/3 of a one-day certificate
      await waitFor(() => renewed.length === 1, { what: 'renewal' });
      await waitFor(() => logger.lines.some((l) => l.msg === 'switched to the renewed certificate'), {
        what: 'session switch',
      });
      assert.notEqual(renewed[0]?.certPem, identity.certPem);
      assert.equal(await certificateCount(fx, 'AP-LIB'), 2);
      assert.ok(agent.isConnected());
      assert.deepEqual(disconnects, [], 'the switch is not a disconnect');
      await waitFor(() => isOnline(fx, 'AP-LIB'), { what: 'AP-LIB online after the switch' });
    } finally {
      await agent.stop();
    }

    // The renewed pair alone is a working identity.
    const [certificate] = renewed;
    const fresh = createAgent(deps, {
      deviceId: 'AP-LIB',
      serverUrl: identity.mqttUrl,
      tls: {
        caPem: identity.caChainPem,
        certPem: certificate?.certPem ?? '',
        keyPem: certificate?.keyPem ?? '',
      },
      identity: { serial: 'AP-LIB', hardware: { model: 'gateway-x1', revision: '1.1' } },
      firmwareVersion: '1.8.0',
    });
    fresh.start();
    try {
      await waitFor(() => fresh.isConnected(), { what: 'connected with the renewed certificate' });
    } finally {
      await fresh.stop();
    }
  });

  it('the daemon renews when due at connect, stores the new pair, and uses it after a restart', async () => {
    // A clock 17 h ahead: the certificate the server issues now is due for renewal at once.
    const configFile = await writeConfig('AP-RENEW', { renewal: { checkIntervalS: 3600 } });
    const ahead = startDaemon(configFile, () => Date.now() + 17 * HOUR_MS);
    await untilOnline(ahead, 'AP-RENEW');
    await waitFor(() => ahead.logs.some((l) => l.msg === 'switched to the renewed certificate'), {
      what: 'renewal and session switch',
    });
    assert.equal(await certificateCount(fx, 'AP-RENEW'), 2);
    assert.equal(ahead.logs.filter((l) => l.msg === 'disconnected').length, 0);
    const audit = await fx.api<{ items: Array<{ action: string; details: { certificateSerial?: string } }> }>(
      '/api/v1/audit?target=AP-RENEW',
    );
    const renewal = audit.body.items.find((entry) => entry.action === 'certificate.renewed');
    const stored = new X509Certificate(await readFile(stateFile('AP-RENEW', 'device.pem'), 'utf8'));
    assert.equal(hexSerial(stored.serialNumber), hexSerial(renewal?.details.certificateSerial ?? ''));
    await ahead.stop();

    const restarted = startDaemon(configFile);
    await untilOnline(restarted, 'AP-RENEW');
    assert.ok(restarted.logs.some((l) => l.msg === 'agent starting' && l.obj['identity'] === 'state-dir'));
    assert.equal(restarted.logs.filter((l) => l.msg === 'renewing certificate').length, 0);
    assert.equal(await certificateCount(fx, 'AP-RENEW'), 2);
    await restarted.stop();
  });
});

describe('simulated fleet provisioning', () => {
  let fx: ServerFixture;
  let dir: string;
  const DEVICES = 1000;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-sim-prov-'));
    fx = await createServerFixture();
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** `flotilla factory batch`, as the factory line runs it. */
  async function factoryBatch(serials: string[], out: string): Promise<void> {
    const serialsFile = join(dir, `${out}.txt`);
    await writeFile(serialsFile, `${serials.join('\n')}\n`);
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          BIN,
          'factory',
          'batch',
          '--serials',
          serialsFile,
          '--model',
          'sensor-mini',
          '--revision',
          'B',
        ].concat(['--out', join(dir, out), '--server', `http://127.0.0.1:${fx.httpPort}`, '--json']),
        (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve()),
      ),
    );
  }

  const silent = recordingLogger();
  const deps = {
    clock: { now: () => Date.now() },
    timers: systemTimers,
    random: Math.random,
    logger: silent,
  };

  it(`${DEVICES} devices provision themselves concurrently from a factory batch and all come online`, async (t) => {
    const serials = Array.from({ length: DEVICES }, (_, i) => `FLEET-${String(i).padStart(4, '0')}`);
    await factoryBatch(serials, 'batch-fleet');
    const batch = await readFactoryBatchDir(join(dir, 'batch-fleet'));
    assert.equal(batch.serials.length, DEVICES);
    const dataDir = join(dir, 'data');
    const options = {
      devices: DEVICES,
      seed: 4,
      serverUrl: batch.endpoints.mqttUrl,
      dataDir,
      connectConcurrency: 50,
      heartbeatIntervalS: 3600,
      backoff: { initialMs: 200, maxMs: 5000 },
      provision: { ...batchProvisioning(batch, 'mqtt'), concurrency: 50 },
    };

    const sim = await startSimulation(deps, options);
    try {
      assert.equal(sim.stats.identitiesIssued, DEVICES);
      assert.equal(sim.stats.identitiesRefused, 0);
      t.diagnostic(
        `provisioned ${DEVICES} devices in ${sim.stats.identitiesMs} ms ` +
          `(${Math.round((DEVICES / sim.stats.identitiesMs) * 1000)} devices/s, 50 in flight)`,
      );
      await sim.ramped;
      await waitFor(
        async () => (await fx.api<FleetSummary>('/api/v1/fleet/summary')).body.online === DEVICES,
        {
          what: `${DEVICES} devices online`,
          timeoutMs: 60_000,
          intervalMs: 250,
        },
      );
      const sample = (await fx.api<Device>(`/api/v1/devices/${serials[DEVICES - 1] ?? ''}`)).body;
      assert.equal(sample.hardwareModel, 'sensor-mini');
      assert.equal(sample.serial, serials[DEVICES - 1]);
      assert.ok(sample.firmwareVersion, 'its state report was applied');
    } finally {
      await sim.stop();
    }
    await waitFor(async () => (await fx.api<FleetSummary>('/api/v1/fleet/summary')).body.online === 0, {
      what: 'every device offline',
      timeoutMs: 30_000,
    });

    // A re-run reuses the cached identities: the server would refuse to provision them again.
    const again = await startSimulation(deps, { ...options, devices: 50 });
    try {
      assert.equal(again.stats.identitiesReused, 50);
      assert.equal(again.stats.identitiesIssued, 0);
      assert.equal((await again.ramped).connected, 50);
    } finally {
      await again.stop();
    }
  });

  it('simulated devices provision over HTTPS; refused serials are left out', async () => {
    await factoryBatch(['WEB-1', 'WEB-2', 'WEB-3'], 'batch-web');
    const batch = await readFactoryBatchDir(join(dir, 'batch-web'));
    // WEB-9 is in no batch: the server refuses it, the others run.
    const provision = { ...batchProvisioning(batch, 'https'), serials: [...batch.serials, 'WEB-9'] };
    const sim = await startSimulation(deps, {
      devices: 4,
      seed: 4,
      serverUrl: batch.endpoints.mqttUrl,
      dataDir: join(dir, 'data-web'),
      provision,
    });
    try {
      assert.equal(sim.stats.identitiesIssued, 3);
      assert.equal(sim.stats.identitiesRefused, 1);
      assert.deepEqual(
        sim.devices.map((d) => d.deviceId),
        ['WEB-1', 'WEB-2', 'WEB-3'],
      );
      assert.equal((await sim.ramped).connected, 3);
      for (const id of ['WEB-1', 'WEB-2', 'WEB-3']) {
        await waitFor(() => isOnline(fx, id), { what: `${id} online` });
      }
      assert.ok(silent.lines.some((l) => l.msg === 'the server refused to provision some simulated devices'));
    } finally {
      await sim.stop();
    }
  });
});
