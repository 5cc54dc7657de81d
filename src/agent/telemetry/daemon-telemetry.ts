/** The daemon's telemetry: its config section turned into a DeviceTelemetry reading Linux health. */
import { join } from 'node:path';
import { ConfigError } from '../../infra/errors.ts';
import { configPath, type AgentConfig } from '../config.ts';
import type { AgentDeps, AgentOptions } from '../types.ts';
import { createDeviceTelemetry, type DeviceTelemetry } from './device-telemetry.ts';
import { linuxHealthSource } from './linux-health.ts';
import { settingsFromConfig, type TelemetryConfig } from './telemetry-config.ts';
import type { TelemetrySettings } from './settings.ts';

export async function createDaemonTelemetry(
  deps: AgentDeps,
  config: AgentConfig,
  telemetry: TelemetryConfig,
  configFile: string,
  tls: AgentOptions['tls'],
  /** Cadences to start with instead of the config file's (remote configuration). */
  settings?: TelemetrySettings,
): Promise<DeviceTelemetry> {
  const base =
    telemetry.dir ?? (config.stateDir !== undefined ? join(config.stateDir, 'telemetry') : undefined);
  if (base === undefined) throw new ConfigError('telemetry.dir: is required when there is no stateDir');
  const dir = configPath(configFile, base);
  let transport: Parameters<typeof createDeviceTelemetry>[1]['transport'] = { kind: 'mqtt' };
  if (telemetry.transport === 'https') {
    const url = telemetry.deviceHttpUrl ?? config.update?.deviceHttpUrl;
    if (url === undefined) {
      throw new ConfigError(
        'telemetry.deviceHttpUrl: is required with transport https (or update.deviceHttpUrl)',
      );
    }
    transport = { kind: 'https', deviceHttpUrl: url, tls };
  }
  return createDeviceTelemetry(deps, {
    settings: settings ?? settingsFromConfig(telemetry),
    outbox: { dir, maxBytes: telemetry.outbox.maxBytes, maxBatches: telemetry.outbox.maxBatches },
    transport,
    sender: {
      ackTimeoutMs: telemetry.ack.timeoutS * 1000,
      // One upload carries up to 100 batches; over MQTT each batch is its own publish.
      maxInFlight: telemetry.transport === 'https' ? 100 : telemetry.ack.maxInFlight,
      retry: { initialMs: telemetry.ack.retryInitialS * 1000, maxMs: telemetry.ack.retryMaxS * 1000 },
    },
    sources: [linuxHealthSource({ dataDir: dir })],
    boot: { code: telemetry.bootReason },
  });
}
