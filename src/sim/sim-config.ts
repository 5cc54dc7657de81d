/**
 * Simulated devices with remote configuration: every boot opens the agent's config sync (state
 * in `<dataDir>/sim/devices/<id>/config.json`), starts telemetry with the configured cadences,
 * then the agent with the configured heartbeat and keepalive. Restart keys therefore take effect
 * when the simulated device is powered off and on again (SimulationHandle.disconnect/reconnect).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createAgent } from '../agent/agent.ts';
import { openConfigSync, type ConfigSync } from '../agent/config-sync/config-sync.ts';
import type { AgentConfigBaseline } from '../agent/config-sync/agent-schema.ts';
import type { DeviceTelemetry } from '../agent/telemetry/device-telemetry.ts';
import type { TelemetrySettings } from '../agent/telemetry/settings.ts';
import type { Agent, AgentDeps, AgentOptions } from '../agent/types.ts';
import { AGENT_DEFAULTS } from '../agent/types.ts';
import { bootPower, currentBootAgent } from './current-boot-agent.ts';

/** What a simulated device runs with when the server wants nothing else. */
export interface SimConfigOptions {
  logLevel?: AgentConfigBaseline['logLevel'];
  /** Told of each running device's config sync at every boot (tests look inside). */
  onBoot?: (deviceId: string, running: SimConfigDevice) => void;
}

export interface SimConfigDevice {
  config: ConfigSync;
  agent: Agent;
  telemetry: DeviceTelemetry | undefined;
}

export function createConfigAgent(
  deps: AgentDeps,
  agentOptions: AgentOptions,
  input: {
    dir: string;
    options: SimConfigOptions;
    telemetrySettings: TelemetrySettings;
    /** Opens the device's telemetry with the given cadences; absent: no telemetry. */
    telemetry?: (settings: TelemetrySettings) => Promise<DeviceTelemetry>;
  },
): Agent {
  let current: SimConfigDevice | undefined;

  async function boot(): Promise<void> {
    await mkdir(input.dir, { recursive: true });
    const config = await openConfigSync(deps, {
      file: join(input.dir, 'config.json'),
      baseline: {
        heartbeatIntervalS: agentOptions.heartbeatIntervalS ?? AGENT_DEFAULTS.heartbeatIntervalS,
        keepaliveS: agentOptions.keepaliveS ?? AGENT_DEFAULTS.keepaliveS,
        logLevel: input.options.logLevel ?? 'info',
        telemetry: input.telemetrySettings,
      },
    });
    const telemetry = input.telemetry ? await input.telemetry(config.telemetrySettings()) : undefined;
    const withConfig = config.agentOptions(agentOptions);
    const agent = createAgent(deps, telemetry ? telemetry.agentOptions(withConfig) : withConfig);
    telemetry?.attach(agent);
    config.attach(agent, telemetry);
    current = { config, agent, telemetry };
    input.options.onBoot?.(agentOptions.deviceId, current);
    telemetry?.start();
    agent.start();
  }

  async function shutdown(): Promise<void> {
    const running = current;
    current = undefined;
    if (!running) return;
    await running.config.stop();
    await running.telemetry?.stop();
    await running.agent.stop();
  }

  return currentBootAgent(
    agentOptions.deviceId,
    () => current?.agent,
    bootPower(agentOptions.deviceId, deps.logger, boot, shutdown),
  );
}
