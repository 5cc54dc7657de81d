/**
 * Remote configuration on the device: declares the agent's schema on every connect, takes each
 * `config/desired` (checked again here), applies live keys at once (telemetry cadences,
 * heartbeat), keeps restart keys for the next start (reported as `pendingRestart` until then),
 * persists the state atomically before reporting, and reports what it applied and refused.
 * Used the same way by the daemon and by simulated devices.
 */
import type { ConfigDesired, ConfigReported, ConfigValues } from '../../contracts/config-messages.ts';
import type { DeviceTelemetry } from '../telemetry/device-telemetry.ts';
import type { TelemetrySettings } from '../telemetry/settings.ts';
import type { Agent, AgentDeps, AgentOptions } from '../types.ts';
import {
  agentConfigSchema,
  crossKeyRejections,
  telemetrySettingsOf,
  type AgentConfigBaseline,
} from './agent-schema.ts';
import { loadConfigState, saveConfigState } from './config-file.ts';
import { planDesired, startupState, type ConfigState } from './config-plan.ts';

export interface ConfigSyncOptions {
  baseline: AgentConfigBaseline;
  /** Where the state survives restarts (`<stateDir>/config.json`); in memory only without. */
  file?: string;
}

export interface ConfigSync {
  /** The values in effect (restart keys as of this start). */
  values(): ConfigValues;
  /** Keys accepted but waiting for the next start. */
  pendingRestart(): string[];
  /** The agent options with this start's values (heartbeat, keepalive) and the config hooks added. */
  agentOptions(options: AgentOptions): AgentOptions;
  /** The telemetry cadences of this start. */
  telemetrySettings(): TelemetrySettings;
  /** The running agent (and its telemetry) the live keys are applied to. */
  attach(agent: Agent, telemetry?: DeviceTelemetry): void;
  /** Waits for the desired documents being processed. */
  stop(): Promise<void>;
}

export async function openConfigSync(deps: AgentDeps, options: ConfigSyncOptions): Promise<ConfigSync> {
  const { logger } = deps;
  const { baseline, file } = options;
  const schema = agentConfigSchema(baseline);
  const saved = file
    ? await loadConfigState(file, (reason) => logger.warn({ file, reason }, 'ignoring damaged config state'))
    : undefined;
  let state: ConfigState = startupState(schema, saved);
  // The start itself applied the pending values: record that before anything else happens.
  if (file && saved && Object.keys(saved.pending).length > 0) await saveConfigState(file, state);
  let agent: Agent | undefined;
  let telemetry: DeviceTelemetry | undefined;
  let work: Promise<void> = Promise.resolve();

  function report(withSchema: boolean): ConfigReported {
    return {
      version: state.version,
      values: state.applied,
      pendingRestart: Object.keys(state.pending).sort(),
      rejected: state.rejected,
      ...(withSchema ? { schema } : {}),
    };
  }

  function publish(withSchema: boolean): void {
    agent?.publishConfigReported(report(withSchema)).catch((err: unknown) =>
      // Not retried: every connect reports again.
      logger.debug({ err: (err as Error).message }, 'config/reported not acknowledged'),
    );
  }

  function applyLive(live: ConfigValues): void {
    const heartbeat = live['heartbeat.intervalS'];
    if (typeof heartbeat === 'number') agent?.setHeartbeatIntervalS(heartbeat);
    if (Object.keys(live).some((key) => key.startsWith('telemetry.')))
      telemetry?.reconfigure(telemetrySettingsOf(state.applied, baseline.telemetry));
  }

  async function onDesired(desired: ConfigDesired): Promise<void> {
    // Retained documents come again on every connect: one already processed changes nothing.
    if (desired.version <= state.version && state.version > 0) return;
    const plan = planDesired(schema, state, desired, (candidate) =>
      crossKeyRejections(candidate, baseline.telemetry),
    );
    state = plan.state;
    if (file) await saveConfigState(file, state);
    applyLive(plan.live);
    logger.info(
      {
        version: state.version,
        live: Object.keys(plan.live),
        pendingRestart: Object.keys(state.pending),
        rejected: state.rejected,
      },
      'config applied',
    );
    publish(false);
  }

  return {
    values: () => ({ ...state.applied }),
    pendingRestart: () => Object.keys(state.pending).sort(),
    agentOptions(agentOptions) {
      const heartbeat = state.applied['heartbeat.intervalS'];
      const keepalive = state.applied['mqtt.keepaliveS'];
      return {
        ...agentOptions,
        ...(typeof heartbeat === 'number' ? { heartbeatIntervalS: heartbeat } : {}),
        ...(typeof keepalive === 'number' ? { keepaliveS: keepalive } : {}),
        onConfigDesired: (desired) => {
          work = work
            .then(() => onDesired(desired))
            .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'config not applied'));
          agentOptions.onConfigDesired?.(desired);
        },
        onConnected: () => {
          publish(true);
          agentOptions.onConnected?.();
        },
      };
    },
    telemetrySettings: () => telemetrySettingsOf(state.applied, baseline.telemetry),
    attach(running, runningTelemetry) {
      agent = running;
      telemetry = runningTelemetry;
    },
    stop: () => work,
  };
}
