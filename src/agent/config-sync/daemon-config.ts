/**
 * The daemon's remote configuration: on with a stateDir (its state lives in
 * `<stateDir>/config.json`), off without, since restart keys need somewhere to wait. The baseline
 * is the config file; `log.level` is applied to the daemon's logger at start.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { configPath, type AgentConfig } from '../config.ts';
import { TELEMETRY_DEFAULTS } from '../telemetry/settings.ts';
import { settingsFromConfig } from '../telemetry/telemetry-config.ts';
import type { AgentDeps } from '../types.ts';
import { LOG_LEVELS } from './agent-schema.ts';
import { openConfigSync, type ConfigSync } from './config-sync.ts';

export async function openDaemonConfigSync(
  deps: AgentDeps,
  config: AgentConfig,
  configFile: string,
): Promise<ConfigSync | undefined> {
  if (config.stateDir === undefined) return undefined;
  // A pino logger carries its level; any other logger keeps its own.
  const logger = deps.logger as AgentDeps['logger'] & { level?: unknown };
  const startLevel = LOG_LEVELS.find((level) => level === logger.level) ?? 'info';
  const stateDir = configPath(configFile, config.stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const sync = await openConfigSync(deps, {
    file: join(stateDir, 'config.json'),
    baseline: {
      heartbeatIntervalS: config.heartbeatIntervalS,
      keepaliveS: config.keepaliveS,
      logLevel: startLevel,
      telemetry: config.telemetry ? settingsFromConfig(config.telemetry) : TELEMETRY_DEFAULTS,
    },
  });
  const level = sync.values()['log.level'];
  if (typeof logger.level === 'string' && typeof level === 'string') logger.level = level;
  return sync;
}
