/**
 * The settings this agent lets the server change, as the schema it declares on connect
 * (contracts/config-messages.ts). Defaults are the device's own local configuration, so "unset"
 * on the server means "back to what this device was configured with". Telemetry cadences and
 * the heartbeat are live; the MQTT keepalive and the log level take effect at the next start.
 * Pure.
 */
import type { ConfigRejection, ConfigSchema, ConfigValues } from '../../contracts/config-messages.ts';
import { ValidationError } from '../../infra/errors.ts';
import { validateSettings, type TelemetrySettings } from '../telemetry/settings.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The device's local baseline: what it runs with when the server wants nothing else. */
export interface AgentConfigBaseline {
  heartbeatIntervalS: number;
  keepaliveS: number;
  logLevel: (typeof LOG_LEVELS)[number];
  telemetry: TelemetrySettings;
}

const seconds = (ms: number) => ms / 1000;
/** Telemetry periods in seconds; fractions allowed (simulations sample faster than once a second). */
const period = (defaultMs: number, description: string) =>
  ({
    type: 'number',
    min: 0.05,
    max: 86_400,
    default: seconds(defaultMs),
    apply: 'live',
    description,
  }) as const;

export function agentConfigSchema(base: AgentConfigBaseline): ConfigSchema {
  return {
    'heartbeat.intervalS': {
      type: 'integer',
      min: 1,
      max: 3600,
      default: base.heartbeatIntervalS,
      apply: 'live',
      description: 'Seconds between heartbeats (offline detection and alerts depend on it)',
    },
    'telemetry.healthSampleS': period(base.telemetry.health.sampleMs, 'Health metric sample period, s'),
    'telemetry.healthWindowS': period(base.telemetry.health.windowMs, 'Health metric window, s'),
    'telemetry.appSampleS': period(base.telemetry.app.sampleMs, 'Application metric sample period, s'),
    'telemetry.appWindowS': period(base.telemetry.app.windowMs, 'Application metric window, s'),
    'telemetry.sendS': period(base.telemetry.sendMs, 'How often closed windows are sent, s'),
    'mqtt.keepaliveS': {
      type: 'integer',
      min: 5,
      max: 1200,
      default: base.keepaliveS,
      apply: 'restart',
      description: 'MQTT keepalive, s',
    },
    'log.level': { type: 'enum', enum: [...LOG_LEVELS], default: base.logLevel, apply: 'restart' },
  };
}

const num = (values: ConfigValues, key: string, fallback: number): number => {
  const value = values[key];
  return typeof value === 'number' ? value : fallback;
};

/** The telemetry settings `values` stand for, on top of `base` (per-metric overrides kept). */
export function telemetrySettingsOf(values: ConfigValues, base: TelemetrySettings): TelemetrySettings {
  const ms = (key: string, fallbackMs: number) => Math.round(num(values, key, seconds(fallbackMs)) * 1000);
  return {
    ...base,
    health: {
      sampleMs: ms('telemetry.healthSampleS', base.health.sampleMs),
      windowMs: ms('telemetry.healthWindowS', base.health.windowMs),
    },
    app: {
      sampleMs: ms('telemetry.appSampleS', base.app.sampleMs),
      windowMs: ms('telemetry.appWindowS', base.app.windowMs),
    },
    sendMs: ms('telemetry.sendS', base.sendMs),
  };
}

/**
 * Rules across keys the schema cannot express: a telemetry window must be a whole number of
 * sample periods. Each broken rule rejects the window key it concerns.
 */
export function crossKeyRejections(values: ConfigValues, base: TelemetrySettings): ConfigRejection[] {
  const settings = telemetrySettingsOf(values, base);
  const rejections: ConfigRejection[] = [];
  for (const kind of ['health', 'app'] as const) {
    const cadence = settings[kind];
    if (cadence.windowMs % cadence.sampleMs !== 0)
      rejections.push({
        key: `telemetry.${kind}WindowS`,
        reason: `window (${cadence.windowMs} ms) must be a multiple of the sample period (${cadence.sampleMs} ms)`,
      });
  }
  if (rejections.length > 0) return rejections;
  try {
    validateSettings(settings);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return [{ key: 'telemetry', reason: error.message }];
  }
  return [];
}
