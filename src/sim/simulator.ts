/**
 * Many simulated devices in one process: each a real agent with its own certificate and its
 * own MQTT/TLS connection. Connections are ramped with bounded concurrency so starting 10,000
 * devices does not turn into 10,000 simultaneous TLS handshakes.
 */
import { createAgent } from '../agent/agent.ts';
import type { Agent, AgentDeps, AgentLogger } from '../agent/types.ts';
import { simulatedFleet, type SimulatedDevice } from './attributes.ts';
import { prepareSimIdentities, type SimIdentity } from './identities.ts';
import { forEachConcurrent } from './pool.ts';

export interface SimulationOptions {
  /** Number of devices. */
  devices: number;
  /** Fleet seed (integer ≥ 0): same seed, same device ids and attributes. */
  seed: number;
  /** `mqtts://host:port` of the Flotilla gateway (or any broker trusting the data dir's CA). */
  serverUrl: string;
  /** Data dir whose development CA signs the device certificates; identities cached in `sim/`. */
  dataDir: string;
  /** Connection attempts in flight during the ramp; default 100. */
  connectConcurrency?: number;
  /** Certificate issuance in flight on a first run; default 16. */
  issueConcurrency?: number;
  heartbeatIntervalS?: number;
  keepaliveS?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called whenever the number of connected devices changes. */
  onProgress?: (connected: number, total: number) => void;
}

export interface SimulationStats {
  identitiesIssued: number;
  identitiesReused: number;
  identitiesMs: number;
}

export interface RampResult {
  /** Devices whose first attempt connected / failed (failed ones keep retrying). */
  connected: number;
  failed: number;
  rampMs: number;
}

export interface SimulationHandle {
  readonly agents: readonly Agent[];
  readonly devices: readonly SimulatedDevice[];
  readonly stats: SimulationStats;
  /** Resolves once every device has made its first connection attempt (or on stop). */
  readonly ramped: Promise<RampResult>;
  connectedCount(): number;
  /** Stops the ramp and every agent; resolves when all have disconnected. */
  stop(): Promise<void>;
}

/** Issues or loads identities, then starts ramping connections in the background. */
export async function startSimulation(
  deps: AgentDeps,
  options: SimulationOptions,
): Promise<SimulationHandle> {
  const devices = simulatedFleet(options.devices, options.seed);
  const identityStart = deps.clock.now();
  const prepared = await prepareSimIdentities(
    options.dataDir,
    devices,
    identityStart,
    options.issueConcurrency ?? 16,
  );
  const stats: SimulationStats = {
    identitiesIssued: prepared.issued,
    identitiesReused: prepared.reused,
    identitiesMs: deps.clock.now() - identityStart,
  };

  let connected = 0;
  let stopped = false;
  let onStop = () => {};
  const stoppedPromise = new Promise<void>((resolve) => (onStop = resolve));
  const progress = () => options.onProgress?.(connected, devices.length);
  const agentDeps: AgentDeps = { ...deps, logger: quietLogger(deps.logger) };
  const firstOutcomes: Promise<boolean>[] = [];

  const agents = devices.map((device, i) => {
    let settle: (ok: boolean) => void = () => {};
    firstOutcomes.push(new Promise<boolean>((resolve) => (settle = resolve)));
    const identity = prepared.identities[i] as SimIdentity;
    return createAgent(agentDeps, {
      deviceId: device.deviceId,
      serverUrl: options.serverUrl,
      tls: { caPem: prepared.caPem, certPem: identity.certPem, keyPem: identity.keyPem },
      identity: { serial: device.serial, hardware: device.hardware },
      firmwareVersion: device.firmwareVersion,
      region: device.region,
      tags: device.tags,
      // Undefined falls back to the agent's defaults.
      heartbeatIntervalS: options.heartbeatIntervalS,
      keepaliveS: options.keepaliveS,
      backoff: options.backoff,
      onConnected: () => {
        connected += 1;
        settle(true);
        progress();
      },
      onDisconnected: ({ wasConnected }) => {
        if (wasConnected) connected -= 1;
        settle(false);
        if (wasConnected) progress();
      },
    });
  });

  const rampStart = deps.clock.now();
  let firstConnected = 0;
  const ramped = forEachConcurrent(
    agents,
    options.connectConcurrency ?? 100,
    async (agent, i) => {
      agent.start();
      // A stop() during the ramp must not leave lanes waiting for attempts that never finish.
      const ok = await Promise.race([firstOutcomes[i] as Promise<boolean>, stoppedPromise.then(() => false)]);
      if (ok) firstConnected += 1;
    },
    () => stopped,
  ).then(() => ({
    connected: firstConnected,
    failed: agents.length - firstConnected,
    rampMs: deps.clock.now() - rampStart,
  }));

  return {
    agents,
    devices,
    stats,
    ramped,
    connectedCount: () => connected,
    async stop() {
      stopped = true;
      onStop();
      await Promise.all(agents.map((agent) => agent.stop()));
      await ramped;
    },
  };
}

/**
 * Per-device connect/disconnect lines are noise with thousands of devices: they go to debug.
 * Warnings and errors (e.g. an invalid message from the server) stay visible.
 */
function quietLogger(logger: AgentLogger): AgentLogger {
  return {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.debug(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
  };
}
