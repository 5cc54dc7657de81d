/**
 * Many simulated devices in one process: each a real agent with its own certificate and its
 * own MQTT/TLS connection. Connections are ramped with bounded concurrency so starting 10,000
 * devices does not turn into 10,000 simultaneous TLS handshakes. Certificates are issued from
 * the data dir's CA, or (with `provision`) each device provisions itself with a factory batch's
 * claim credential, like a real device on first boot.
 */
import { join } from 'node:path';
import { createAgent } from '../agent/agent.ts';
import { createHttpGet, readBody } from '../agent/update/transport.ts';
import type { Agent, AgentDeps, AgentLogger, AgentOptions } from '../agent/types.ts';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';
import { ValidationError } from '../infra/errors.ts';
import type { TelemetrySettings } from '../agent/telemetry/settings.ts';
import { simulatedFleet, type SimulatedDevice } from './attributes.ts';
import { prepareSimIdentities, type SimIdentity } from './identities.ts';
import { forEachConcurrent } from './pool.ts';
import { prepareProvisionedIdentities, type SimProvisioning } from './provisioned-identities.ts';
import { simulatedImage } from './sim-firmware.ts';
import type { SimFault } from './sim-faults.ts';
import { createUpdatingAgent, type SimUpdateOptions } from './updating-agent.ts';
import {
  createSimDeviceTelemetry,
  createTelemetryAgent,
  simTelemetrySettings,
  type SimTelemetryOptions,
} from './device-telemetry.ts';
import { createConfigAgent, type SimConfigOptions } from './sim-config.ts';

import { createSimJobs, type SimJobs, type SimJobsOptions } from './sim-jobs.ts';

export type { SimProvisioning } from './provisioned-identities.ts';
export type { SimJobsOptions } from './sim-jobs.ts';
export type { SimTelemetryOptions } from './device-telemetry.ts';
export type { SimConfigOptions } from './sim-config.ts';

export interface SimulationOptions {
  /** Number of devices. */
  devices: number;
  /** Fleet seed (integer ≥ 0): same seed, same device ids and attributes. */
  seed: number;
  /** `mqtts://host:port` of the Flotilla gateway (or any broker trusting the data dir's CA). */
  serverUrl: string;
  /** Data dir whose CA signs the device certificates; identities (also provisioned ones) cached in `sim/`. */
  dataDir: string;
  /** Provision every device with a factory batch's claim credential instead of issuing from dataDir's CA. */
  provision?: SimProvisioning;
  /** Connection attempts in flight during the ramp; default 100. */
  connectConcurrency?: number;
  /** Certificate issuance in flight on a first run; default 16. */
  issueConcurrency?: number;
  heartbeatIntervalS?: number;
  keepaliveS?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called whenever the number of connected devices changes. */
  onProgress?: (connected: number, total: number) => void;
  /**
   * Devices take firmware updates (A/B slots under `<dataDir>/sim/devices/<id>/`). The TUF root
   * they trust is fetched once from the server; the factory image defaults to simulatedImage().
   */
  updates?: Omit<SimUpdateOptions, 'trustedRoot' | 'initialImage' | 'telemetry'> & {
    initialImage?: SimUpdateOptions['initialImage'];
  };
  /**
   * Devices send telemetry (simulated health metrics and errors, sim-telemetry.ts), with their
   * outbox under `<dataDir>/sim/devices/<id>/telemetry`. Off by default.
   */
  telemetry?: SimTelemetryOptions;
  /** Devices run remote jobs with simulated actions (sim-jobs.ts). Off by default. */
  jobs?: SimJobsOptions;
  /**
   * Devices take remote configuration (agent config sync, state under
   * `<dataDir>/sim/devices/<id>/config.json`). Not combined with `updates`. Off by default.
   */
  config?: SimConfigOptions;
}

export interface SimulationStats {
  /** Issued from the data dir's CA, or provisioned. */
  identitiesIssued: number;
  identitiesReused: number;
  /** With `provision`: devices the server refused (left out of the simulation). */
  identitiesRefused?: number;
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
  /** Per device id, with `jobs`: its job runner and simulated state. */
  readonly jobs: ReadonlyMap<string, SimJobs>;
  readonly stats: SimulationStats;
  /** Resolves once every device has made its first connection attempt (or on stop). */
  readonly ramped: Promise<RampResult>;
  connectedCount(): number;
  /**
   * Plants a fault in the devices' telemetry from now on (sim-faults.ts): `sinceMs` defaults to
   * now. Replaces an earlier fault of the same devices. Needs `telemetry`.
   */
  plantFault(deviceIds: readonly string[], fault: Omit<SimFault, 'sinceMs'> & { sinceMs?: number }): void;
  /** Removes every planted fault. */
  clearFaults(): void;
  /** Takes the devices offline at once (a site losing its network): they disconnect cleanly and stay off. */
  disconnect(deviceIds: readonly string[]): Promise<void>;
  /** Powers the devices on again. */
  reconnect(deviceIds: readonly string[]): void;
  /** Stops the ramp and every agent; resolves when all have disconnected. */
  stop(): Promise<void>;
}

/** Issues, provisions or loads identities, then starts ramping connections in the background. */
export async function startSimulation(
  deps: AgentDeps,
  options: SimulationOptions,
): Promise<SimulationHandle> {
  const generated = simulatedFleet(options.devices, options.seed);
  const fleet = options.provision ? batchFleet(generated, options.provision) : generated;
  const identityStart = deps.clock.now();
  const prepared = await prepareIdentities(deps, options, fleet);
  // Devices the server refused have no identity: they stay out of the simulation.
  const devices = fleet.filter((_, i) => prepared.identities[i] !== undefined);
  const identities = prepared.identities.filter((identity) => identity !== undefined);
  const stats: SimulationStats = {
    identitiesIssued: prepared.issued,
    identitiesReused: prepared.reused,
    identitiesMs: deps.clock.now() - identityStart,
  };
  if (options.provision) stats.identitiesRefused = fleet.length - devices.length;

  let connected = 0;
  let stopped = false;
  let onStop = () => {};
  const stoppedPromise = new Promise<void>((resolve) => (onStop = resolve));
  const progress = () => options.onProgress?.(connected, devices.length);
  const agentDeps: AgentDeps = { ...deps, logger: quietLogger(deps.logger) };
  const firstOutcomes: Promise<boolean>[] = [];
  if (options.config && options.updates)
    throw new ValidationError('simulated devices take remote configuration or updates, not both (yet)');
  const faults = new Map<string, SimFault>();
  const jobs = new Map<string, SimJobs>();

  const updates = options.updates
    ? {
        ...options.updates,
        initialImage: options.updates.initialImage ?? ((model, version) => simulatedImage(model, version)),
        trustedRoot: await fetchTrustedRoot(options.updates.deviceHttpUrl, prepared.caPem, identities[0]),
      }
    : undefined;
  const agents = devices.map((device, i) => {
    let settle: (ok: boolean) => void = () => {};
    firstOutcomes.push(new Promise<boolean>((resolve) => (settle = resolve)));
    const identity = identities[i] as SimIdentity;
    const tls = { caPem: prepared.caPem, certPem: identity.certPem, keyPem: identity.keyPem };
    const deviceJobs = options.jobs
      ? createSimJobs(agentDeps, options.jobs, { deviceId: identity.deviceId, tls })
      : undefined;
    const deviceDeps = deviceJobs?.deps ?? agentDeps;
    const plainOptions: AgentOptions = {
      deviceId: identity.deviceId,
      serverUrl: options.serverUrl,
      tls,
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
    };
    const agentOptions = deviceJobs ? deviceJobs.agentOptions(plainOptions) : plainOptions;
    const agent = createDeviceAgent(deviceDeps, agentOptions, identity.deviceId);
    if (deviceJobs) {
      deviceJobs.bind(agent);
      jobs.set(identity.deviceId, deviceJobs);
    }
    return agent;
  });

  /** The agent of one device: plain, with telemetry, or taking updates. */
  function createDeviceAgent(agentDeps: AgentDeps, agentOptions: AgentOptions, deviceId: string): Agent {
    const dir = join(options.dataDir, 'sim', 'devices', deviceId);
    const telemetry = options.telemetry;
    const openTelemetry = telemetry
      ? (boot: { errorFactor: number; bootReason: string; settings?: TelemetrySettings }) =>
          createSimDeviceTelemetry(agentDeps, telemetry, {
            deviceId: deviceId,
            tls: agentOptions.tls,
            dir,
            ...boot,
            fault: () => faults.get(deviceId),
          })
      : undefined;
    if (options.config) {
      return createConfigAgent(agentDeps, agentOptions, {
        dir,
        options: options.config,
        telemetrySettings: simTelemetrySettings(telemetry ?? {}),
        ...(openTelemetry
          ? {
              telemetry: (settings: TelemetrySettings) =>
                openTelemetry({ errorFactor: 1, bootReason: 'power_on', settings }),
            }
          : {}),
      });
    }
    if (updates) {
      return createUpdatingAgent(
        agentDeps,
        agentOptions,
        { ...updates, ...(openTelemetry ? { telemetry: openTelemetry } : {}) },
        dir,
      );
    }
    return openTelemetry
      ? createTelemetryAgent(agentDeps, agentOptions, () =>
          openTelemetry({ errorFactor: 1, bootReason: 'power_on' }),
        )
      : createAgent(agentDeps, agentOptions);
  }

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
    jobs,
    stats,
    ramped,
    connectedCount: () => connected,
    plantFault(deviceIds, fault) {
      const planted: SimFault = { ...fault, sinceMs: fault.sinceMs ?? deps.clock.now() };
      for (const id of deviceIds) faults.set(id, planted);
    },
    clearFaults: () => faults.clear(),
    async disconnect(deviceIds) {
      const ids = new Set(deviceIds);
      await Promise.all(agents.filter((agent) => ids.has(agent.deviceId)).map((agent) => agent.stop()));
    },
    reconnect(deviceIds) {
      const ids = new Set(deviceIds);
      for (const agent of agents) if (ids.has(agent.deviceId)) agent.start();
    },
    async stop() {
      stopped = true;
      onStop();
      await Promise.all(agents.map((agent) => agent.stop()));
      await ramped;
    },
  };
}

/**
 * With `provision`, the fleet takes the batch's serials (which become device ids, as the server
 * assigns them) and hardware in place of its generated ones. Pure.
 */
export function batchFleet(fleet: readonly SimulatedDevice[], provision: SimProvisioning): SimulatedDevice[] {
  const serials = provision.serials ?? fleet.map((device) => device.serial);
  if (serials.length < fleet.length) {
    throw new ValidationError(`${fleet.length} devices but only ${serials.length} serials to provision`);
  }
  // Serials name cache files and topics: only what the server accepts as a device id.
  const invalid = serials.find((serial) => !DEVICE_ID_PATTERN.test(serial));
  if (invalid !== undefined)
    throw new ValidationError(`serial ${JSON.stringify(invalid)} is not a valid device id`);
  return fleet.map((device, i) => {
    const serial = serials[i] ?? device.serial;
    return { ...device, serial, deviceId: serial, hardware: { ...(provision.hardware ?? device.hardware) } };
  });
}

/** Identities for `fleet`, in order: issued from the data dir's CA, or provisioned. */
async function prepareIdentities(
  deps: AgentDeps,
  options: SimulationOptions,
  fleet: SimulatedDevice[],
): Promise<{ caPem: string; identities: (SimIdentity | undefined)[]; issued: number; reused: number }> {
  const { provision } = options;
  if (!provision) {
    return prepareSimIdentities(options.dataDir, fleet, deps.clock.now(), options.issueConcurrency ?? 16);
  }
  const prepared = await prepareProvisionedIdentities(
    { ...deps, logger: provisioningLogger(deps.logger) },
    {
      dataDir: options.dataDir,
      serials: fleet.map((device) => device.serial),
      provision,
      serverUrl: options.serverUrl,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    },
  );
  if (Object.keys(prepared.refused).length > 0) {
    deps.logger.warn({ refused: prepared.refused }, 'the server refused to provision some simulated devices');
  }
  return prepared;
}

/** Like quietLogger, plus one summary instead of a refusal line per device. */
function provisioningLogger(logger: AgentLogger): AgentLogger {
  return { ...quietLogger(logger), error: (obj, msg) => logger.debug(obj, msg) };
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

/**
 * The TUF root simulated devices ship with. A real device gets it at the factory; the simulator
 * reads it once from the server over mTLS (trust on first use, acceptable for a simulation).
 */
async function fetchTrustedRoot(
  deviceHttpUrl: string,
  caPem: string,
  identity: SimIdentity | undefined,
): Promise<Buffer> {
  if (!identity) throw new ValidationError('no simulated device has an identity to fetch the TUF root with');
  const get = createHttpGet({ caPem, certPem: identity.certPem, keyPem: identity.keyPem });
  const res = await get(`${deviceHttpUrl}/device/v1/tuf/1.root.json`);
  const body = await readBody(res, 1024 * 1024);
  if (res.statusCode !== 200) {
    throw new ValidationError(`could not fetch the TUF root from ${deviceHttpUrl}: HTTP ${res.statusCode}`);
  }
  return body;
}
