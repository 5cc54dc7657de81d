/** The simulator against a real Mosquitto that trusts the data dir's CA. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { stateReportedSchema } from '../../src/contracts/device-messages.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { openSimIdentities } from '../../src/sim/identities.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { X509Certificate } from 'node:crypto';
import {
  startMosquitto,
  startObserver,
  type MosquittoFixture,
  type ObservedMessage,
} from '../helpers/mosquitto-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };

describe('simulator against mosquitto', () => {
  let broker: MosquittoFixture;
  let observer: { client: MqttClient; messages: ObservedMessage[] };
  let running: SimulationHandle | undefined;
  const DEVICES = 20;

  before(async () => {
    broker = await startMosquitto();
    observer = await startObserver(broker.plainPort);
  });
  after(async () => {
    await running?.stop();
    await observer?.client.endAsync(true);
    await broker?.close();
  });

  const simulate = async (serverUrl = broker.tlsUrl) => {
    const progress: number[] = [];
    running = await startSimulation(deps, {
      devices: DEVICES,
      seed: 9,
      serverUrl,
      dataDir: broker.dataDir,
      connectConcurrency: 5,
      onProgress: (connected) => progress.push(connected),
    });
    const ramp = await running.ramped;
    return { sim: running, ramp, progress };
  };

  it('connects every device with its own certificate and reports its state', async () => {
    const { sim, ramp, progress } = await simulate();
    assert.deepEqual(ramp.connected, DEVICES);
    assert.equal(sim.connectedCount(), DEVICES);
    assert.equal(sim.stats.identitiesIssued, DEVICES);
    assert.equal(progress.at(-1), DEVICES);

    // The broker's ACL only lets a certificate publish under fl/d/<its CN>/, so one report
    // per device id proves each device used its own certificate.
    const reporters = () =>
      new Set(observer.messages.filter((m) => m.topic.endsWith('/state/reported')).map((m) => m.topic));
    await waitFor(() => reporters().size === DEVICES, { what: 'a report from every device' });
    for (const device of sim.devices) {
      const message = observer.messages.find((m) => m.topic === `fl/d/${device.deviceId}/state/reported`);
      const report = stateReportedSchema.parse(message?.payload);
      assert.equal(report.serial, device.serial);
      assert.equal(report.firmwareVersion, device.firmwareVersion);
    }

    const files = (await readdir(join(broker.dataDir, 'sim'))).sort();
    assert.equal(files.filter((f) => f.endsWith('.pem')).length, DEVICES);
    assert.equal(files.filter((f) => f.endsWith('.key')).length, DEVICES);
    const keyMode = (await stat(join(broker.dataDir, 'sim', 'sim-9-00000.key'))).mode & 0o777;
    assert.equal(keyMode, 0o600);
    const subjects = await Promise.all(
      sim.devices.map(async (d) => {
        const pem = await readFile(join(broker.dataDir, 'sim', `${d.deviceId}.pem`), 'utf8');
        return new X509Certificate(pem).subject;
      }),
    );
    assert.equal(new Set(subjects).size, DEVICES);

    await sim.stop();
    running = undefined;
    assert.equal(sim.connectedCount(), 0);
  });

  it('reuses cached identities on a second run', async () => {
    const certBefore = await readFile(join(broker.dataDir, 'sim', 'sim-9-00003.pem'), 'utf8');
    // By name this time: exercises SNI and the server certificate's DNS SAN.
    const { sim, ramp } = await simulate(`mqtts://localhost:${broker.tlsPort}`);
    assert.equal(ramp.connected, DEVICES);
    assert.equal(sim.stats.identitiesReused, DEVICES);
    assert.equal(sim.stats.identitiesIssued, 0);
    assert.equal(await readFile(join(broker.dataDir, 'sim', 'sim-9-00003.pem'), 'utf8'), certBefore);
    await sim.stop();
    running = undefined;
  });

  it('re-issues cached identities that another CA signed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flotilla-sim-ca-'));
    try {
      const device = { deviceId: 'sim-x-00001', serial: 'SN-X' };
      const first = await (await openSimIdentities(dataDir, Date.now())).ensure(device);
      assert.equal((await (await openSimIdentities(dataDir, Date.now())).ensure(device)).reused, true);
      // A new CA (the data dir was reset) makes every cached certificate useless.
      await rm(join(dataDir, 'pki'), { recursive: true });
      const again = await (await openSimIdentities(dataDir, Date.now())).ensure(device);
      assert.equal(again.reused, false);
      assert.notEqual(again.certPem, first.certPem);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
