/**
 * The demo fleet `npm start` runs inside the server process: simulated devices on the real gateway.
 * They take firmware updates (A/B slot files under the data dir): the factory image of every
 * model and version they run is published as a release at start, so a new release deploys to them
 * as a delta (`flotilla firmware publish` + `flotilla firmware deploy`).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { startSimulation, type SimulationHandle } from '../sim/simulator.ts';
import { simulatedFleet } from '../sim/attributes.ts';
import { simulatedImage } from '../sim/sim-firmware.ts';
import { systemClock } from '../infra/clock.ts';
import { systemTimers } from '../infra/timers.ts';
import type { RunningServer } from '../server.ts';

export const DEMO_FLEET_SEED = 42;

export async function startDemoFleet(
  server: RunningServer,
  devices: number,
  logger: Logger,
): Promise<SimulationHandle> {
  const log = logger.child({ component: 'demo-fleet' });
  await publishFactoryReleases(server, devices, log);
  const simulation = await startSimulation(
    { clock: systemClock, timers: systemTimers, random: Math.random, logger: log },
    {
      devices,
      seed: DEMO_FLEET_SEED,
      // The server certificate names localhost; connect over loopback whatever the listen address.
      serverUrl: `mqtts://localhost:${new URL(server.mqttUrl).port}`,
      dataDir: server.config.dataDir,
      heartbeatIntervalS: 30,
      updates: {
        deviceHttpUrl: `https://localhost:${new URL(server.deviceHttpUrl).port}`,
        pollIntervalS: 15 * 60,
        healthRetryDelayMs: 2000,
      },
      // Minute windows instead of the agent's five, so the demo's charts fill within minutes.
      telemetry: { sampleMs: 10_000, windowMs: 60_000, sendMs: 30_000 },
      // Remote jobs (reboot, logs, self-test, sensors, custom commands) with simulated actions.
      jobs: { deviceHttpUrl: `https://localhost:${new URL(server.deviceHttpUrl).port}` },
    },
  );
  void simulation.ramped.then((ramp) => logger.info({ ...ramp, devices }, 'demo fleet connected'));
  return simulation;
}

/** Publishes each (model, version) the demo fleet runs, through the management API (idempotent). */
async function publishFactoryReleases(server: RunningServer, devices: number, logger: Logger): Promise<void> {
  const running = new Set(
    simulatedFleet(devices, DEMO_FLEET_SEED).map((d) => `${d.hardware.model}@${d.firmwareVersion}`),
  );
  const token = await server.internalToken('demo-fleet', 'release-manager');
  const authorization: Record<string, string> =
    token === undefined ? {} : { authorization: `Bearer ${token}` };
  for (const key of running) {
    const [model = '', version = ''] = key.split('@');
    const image = simulatedImage(model, version);
    const sha256 = createHash('sha256').update(image).digest('hex');
    const upload = await fetch(`${server.httpUrl}/api/v1/firmware/artifacts`, {
      method: 'PUT',
      headers: { ...authorization, 'content-type': 'application/octet-stream' },
      body: image,
    });
    if (!upload.ok) throw new Error(`demo fleet: upload of ${key} failed with HTTP ${upload.status}`);
    const release = await fetch(`${server.httpUrl}/api/v1/firmware/releases`, {
      method: 'POST',
      headers: { ...authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ version, hardwareModel: model, sha256, notes: 'demo fleet factory image' }),
    });
    // 409: published by an earlier start.
    if (!release.ok && release.status !== 409) {
      throw new Error(
        `demo fleet: release ${key} refused with HTTP ${release.status}: ${await release.text()}`,
      );
    }
  }
  logger.info({ releases: running.size }, 'demo fleet factory releases published');
}
