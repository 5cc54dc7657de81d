/**
 * Connect N simulated devices over mTLS to a broker process and measure the connect rate and the
 * broker's memory per connected device. The same simulator drives Flotilla and the Mosquitto baseline.
 */
import { startSimulation, type SimulationHandle } from '../src/sim/simulator.ts';
import { systemClock } from '../src/infra/clock.ts';
import { systemTimers } from '../src/infra/timers.ts';
import { createLogger } from '../src/infra/logger.ts';
import { waitUntil, type MeasuredProcess } from './processes.ts';
import { createProgressBar } from '../src/cli/progress.ts';
import { prepareSimIdentities } from '../src/sim/identities.ts';
import { simulatedFleet } from '../src/sim/attributes.ts';

export interface ConnectResult {
  target: string;
  devices: number;
  /** First-attempt connections per second of ramp time. */
  connectsPerS: number;
  rampMs: number;
  /** Devices whose first attempt failed (they retried with backoff); 0 in a clean run. */
  failedFirstAttempt: number;
  /** Broker RSS with no devices, and with all N connected (after settling). */
  idleRssBytes: number;
  loadedRssBytes: number;
  bytesPerDevice: number;
  /** Broker CPU time (user + system) per connect during the ramp, in ms. */
  brokerCpuMsPerConnect: number;
  /** The simulator's own CPU time per connect, in ms: the client side of the same handshakes. */
  simulatorCpuMsPerConnect: number;
}

export interface ConnectRun {
  target: string;
  devices: number;
  dataDir: string;
  serverUrl: string;
  broker: MeasuredProcess;
  /** Extra readiness condition, e.g. the Flotilla registry shows N online. */
  settled?: () => Promise<boolean>;
}

const SETTLE_MS = 3000;

/** Issues (or reuses) the identities before anything is timed. */
export async function prepareIdentities(
  dataDir: string,
  devices: number,
  seed: number,
): Promise<SimulationHandle['stats']> {
  const started = performance.now();
  const prepared = await prepareSimIdentities(dataDir, simulatedFleet(devices, seed), Date.now());
  return {
    identitiesIssued: prepared.issued,
    identitiesReused: prepared.reused,
    identitiesMs: performance.now() - started,
  };
}

function simDeps() {
  return { clock: systemClock, timers: systemTimers, random: Math.random, logger: createLogger('warn') };
}

export async function measureConnects(run: ConnectRun, seed: number): Promise<ConnectResult> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idleRssBytes = await run.broker.rssBytes();
  process.stderr.write(`${run.target}: connecting ${run.devices} devices\n`);
  const bar = createProgressBar(run.devices, 'connected');
  let sim: SimulationHandle | undefined;
  try {
    const brokerCpuBefore = await run.broker.cpuMs();
    const simCpuBefore = process.cpuUsage();
    sim = await startSimulation(simDeps(), {
      devices: run.devices,
      seed,
      serverUrl: run.serverUrl,
      dataDir: run.dataDir,
      connectConcurrency: 100,
      heartbeatIntervalS: 300,
      keepaliveS: 300,
      onProgress: (connected) => bar.update(connected),
    });
    // The ramp is timed by the simulator: from the first attempt until every device's first
    // attempt has finished (identity loading is not included).
    const ramp = await sim.ramped;
    const rampMs = ramp.rampMs;
    const brokerCpuMs = (await run.broker.cpuMs()) - brokerCpuBefore;
    const simCpu = process.cpuUsage(simCpuBefore);
    // Includes loading the cached identities, a small part of the total.
    const simulatorCpuMs = (simCpu.user + simCpu.system) / 1000;
    const handle = sim;
    await waitUntil(
      () => Promise.resolve(handle.connectedCount() === run.devices),
      `${run.devices} devices connected to ${run.target}`,
      600_000,
    );
    bar.finish(run.devices);
    if (run.settled) await waitUntil(run.settled, `${run.target} settled`, 120_000);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const loadedRssBytes = await run.broker.rssBytes();
    return {
      target: run.target,
      devices: run.devices,
      connectsPerS: ramp.connected / (rampMs / 1000),
      failedFirstAttempt: ramp.failed,
      rampMs,
      idleRssBytes,
      loadedRssBytes,
      bytesPerDevice: (loadedRssBytes - idleRssBytes) / run.devices,
      brokerCpuMsPerConnect: brokerCpuMs / run.devices,
      simulatorCpuMsPerConnect: simulatorCpuMs / run.devices,
    };
  } finally {
    await sim?.stop();
  }
}
