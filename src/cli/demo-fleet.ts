/**
 * The demo fleet `npm start` runs inside the server process: simulated devices on the real gateway,
 * ready to operate from the dashboard without reading docs. They take firmware updates (A/B slot
 * files under the data dir): the factory image of every model and version they run is published
 * at start, plus one newer release per model to roll out (demo-releases.ts), and a few alert rules
 * that fire within a minute (demo-alert-rules.ts).
 */
import type { Logger } from 'pino';
import { startSimulation, type SimulationHandle } from '../sim/simulator.ts';
import { systemClock } from '../infra/clock.ts';
import { systemTimers } from '../infra/timers.ts';
import type { RunningServer } from '../server.ts';
import { seedDemoAlertRules } from './demo-alert-rules.ts';
import { DEMO_NEW_RELEASES, publishDemoReleases, type DemoApi } from './demo-releases.ts';

export const DEMO_FLEET_SEED = 42;

/** A token with `role` for the in-process set-up calls (none needed with access control off). */
async function demoApi(server: RunningServer, role: 'release-manager' | 'operator'): Promise<DemoApi> {
  const token = await server.internalToken(`demo-fleet-${role}`, role);
  return {
    httpUrl: server.httpUrl,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  };
}

export async function startDemoFleet(
  server: RunningServer,
  devices: number,
  logger: Logger,
): Promise<SimulationHandle> {
  const log = logger.child({ component: 'demo-fleet' });
  await publishDemoReleases(await demoApi(server, 'release-manager'), devices, DEMO_FLEET_SEED, log);
  await seedDemoAlertRules(await demoApi(server, 'operator'), server.config.dataDir, log);
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

/** Lines for the start banner: what the demo offers and where to try it in the dashboard. */
export function demoFleetBanner(devices: number, httpUrl: string): string {
  const releases = DEMO_NEW_RELEASES.map((r) => `${r.model} ${r.version}`).join(', ');
  return (
    `  demo fleet         ${devices} simulated devices\n` +
    `  try                roll out ${releases} from ${httpUrl}/#/rollouts/new\n`
  );
}
