/** The demo fleet `npm start` runs inside the server process: simulated devices on the real gateway. */
import type { Logger } from 'pino';
import { startSimulation, type SimulationHandle } from '../sim/simulator.ts';
import { systemClock } from '../infra/clock.ts';
import { systemTimers } from '../infra/timers.ts';
import type { RunningServer } from '../server.ts';

export const DEMO_FLEET_SEED = 42;

export async function startDemoFleet(
  server: RunningServer,
  devices: number,
  logger: Logger,
): Promise<SimulationHandle> {
  const simulation = await startSimulation(
    {
      clock: systemClock,
      timers: systemTimers,
      random: Math.random,
      logger: logger.child({ component: 'demo-fleet' }),
    },
    {
      devices,
      seed: DEMO_FLEET_SEED,
      // The server certificate names localhost; connect over loopback whatever the listen address.
      serverUrl: `mqtts://localhost:${new URL(server.mqttUrl).port}`,
      dataDir: server.config.dataDir,
      heartbeatIntervalS: 30,
    },
  );
  void simulation.ramped.then((ramp) => logger.info({ ...ramp, devices }, 'demo fleet connected'));
  return simulation;
}
