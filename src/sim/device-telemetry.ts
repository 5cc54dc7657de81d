/**
 * Telemetry of simulated devices: the agent's own DeviceTelemetry (collector, outbox, sender)
 * with the simulated source, its outbox under `<dataDir>/sim/devices/<id>/telemetry` (no fsync:
 * hundreds of simulated devices share one disk), and cadences short enough for tests when asked.
 * `createTelemetryAgent` gives a device without updates an agent that boots with its telemetry.
 */
import { join } from 'node:path';
import type { TelemetryBatch } from '../contracts/telemetry-messages.ts';
import { createAgent } from '../agent/agent.ts';
import {
  createDeviceTelemetry,
  type DeviceTelemetry,
  type TelemetryTransportOptions,
} from '../agent/telemetry/device-telemetry.ts';
import type { SenderOptions } from '../agent/telemetry/sender.ts';
import { TELEMETRY_DEFAULTS, type TelemetrySettings } from '../agent/telemetry/settings.ts';
import type { Agent, AgentDeps, AgentOptions } from '../agent/types.ts';
import type { FaultLookup } from './sim-faults.ts';
import { simTelemetrySource } from './sim-telemetry.ts';
import { bootPower, currentBootAgent } from './current-boot-agent.ts';

export interface SimTelemetryOptions {
  /** Sample period of every metric, in ms; default the agent's (health 60 s, application 10 s). */
  sampleMs?: number;
  /** Window length of every metric, in ms (a multiple of sampleMs); default the agent's (5 min, 1 min). */
  windowMs?: number;
  /** Send period, in ms; default 30 s. */
  sendMs?: number;
  /** Default MQTT; HTTPS uploads to the device API with the device certificate. */
  transport?: { kind: 'mqtt' } | { kind: 'https'; deviceHttpUrl: string };
  sender?: SenderOptions;
  /** Errors per second on healthy firmware; default SIM_TELEMETRY_DEFAULTS.errorRatePerS. */
  errorRatePerS?: number;
  /** Battery percentage points lost per hour; default SIM_TELEMETRY_DEFAULTS.batteryDrainPerHour. */
  batteryDrainPerHour?: number;
  outbox?: { maxBytes?: number; maxBatches?: number };
  /** Told of every batch a device queued (what the fleet produced, for end-to-end checks). */
  onQueued?: (deviceId: string, batch: TelemetryBatch) => void;
}

export interface SimTelemetryContext {
  deviceId: string;
  tls: AgentOptions['tls'];
  /** The device's directory (`<dataDir>/sim/devices/<id>`). */
  dir: string;
  /** How many times the base error rate the booted firmware reports. */
  errorFactor: number;
  bootReason: string;
  /** The device's planted fault, if any (SimulationHandle.plantFault). */
  fault?: FaultLookup;
  /** Cadences to start with instead of the simulation's (remote configuration). */
  settings?: TelemetrySettings;
}

/** The cadences a simulation asked for, on top of the agent's defaults. Pure. */
export function simTelemetrySettings(options: SimTelemetryOptions): TelemetrySettings {
  const cadence = (defaults: { sampleMs: number; windowMs: number }) => ({
    sampleMs: options.sampleMs ?? defaults.sampleMs,
    windowMs: options.windowMs ?? defaults.windowMs,
  });
  return {
    health: cadence(TELEMETRY_DEFAULTS.health),
    app: cadence(TELEMETRY_DEFAULTS.app),
    sendMs: options.sendMs ?? TELEMETRY_DEFAULTS.sendMs,
    metrics: {},
  };
}

export function createSimDeviceTelemetry(
  deps: AgentDeps,
  options: SimTelemetryOptions,
  context: SimTelemetryContext,
): Promise<DeviceTelemetry> {
  const transport: TelemetryTransportOptions =
    options.transport?.kind === 'https'
      ? { kind: 'https', deviceHttpUrl: options.transport.deviceHttpUrl, tls: context.tls }
      : { kind: 'mqtt' };
  return createDeviceTelemetry(deps, {
    settings: context.settings ?? simTelemetrySettings(options),
    outbox: { dir: join(context.dir, 'telemetry'), sync: false, ...options.outbox },
    transport,
    ...(options.sender ? { sender: options.sender } : {}),
    sources: [
      simTelemetrySource({
        seed: hashString(context.deviceId),
        bootMs: deps.clock.now(),
        errorFactor: context.errorFactor,
        ...(options.errorRatePerS !== undefined ? { errorRatePerS: options.errorRatePerS } : {}),
        ...(options.batteryDrainPerHour !== undefined
          ? { batteryDrainPerHour: options.batteryDrainPerHour }
          : {}),
        ...(context.fault ? { fault: context.fault } : {}),
      }),
    ],
    boot: { code: context.bootReason },
    ...(options.onQueued
      ? { onQueued: (batch: TelemetryBatch) => options.onQueued?.(context.deviceId, batch) }
      : {}),
  });
}

/** FNV-1a: a stable 32-bit seed per device id. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** An agent whose start() opens its telemetry first; stop() queues the open windows, then disconnects. */
export function createTelemetryAgent(
  deps: AgentDeps,
  agentOptions: AgentOptions,
  makeTelemetry: () => Promise<DeviceTelemetry>,
): Agent {
  let current: { agent: Agent; telemetry: DeviceTelemetry } | undefined;

  async function boot(): Promise<void> {
    const telemetry = await makeTelemetry();
    const agent = createAgent(deps, telemetry.agentOptions(agentOptions));
    telemetry.attach(agent);
    current = { agent, telemetry };
    telemetry.start();
    agent.start();
  }

  async function shutdown(): Promise<void> {
    const running = current;
    current = undefined;
    if (!running) return;
    await running.telemetry.stop();
    await running.agent.stop();
  }

  return currentBootAgent(
    agentOptions.deviceId,
    () => current?.agent,
    bootPower(agentOptions.deviceId, deps.logger, boot, shutdown),
  );
}
