/**
 * The agent daemon's config file (YAML, or JSON when the name ends in .json): one schema,
 * errors that name the field. Relative file paths are resolved against the config file's
 * directory, so a config and its certificates can be moved together.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { stateReportedSchema } from '../contracts/device-messages.ts';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';
import { ConfigError } from '../infra/errors.ts';
import { AGENT_DEFAULTS, type AgentOptions } from './types.ts';

const reported = stateReportedSchema.shape;
const filePath = z.string().min(1, 'must be a file path');

export const agentConfigSchema = z.strictObject({
  deviceId: z.string().regex(DEVICE_ID_PATTERN, 'must match [A-Za-z0-9][A-Za-z0-9._-]{0,127} (the cert CN)'),
  serverUrl: z.string().regex(/^mqtts:\/\/[^/]+\/?$/, 'must look like mqtts://host:port'),
  /** CA certificate that signed the server's certificate (PEM). */
  caFile: filePath,
  /** This device's client certificate and private key (PEM). */
  certFile: filePath,
  keyFile: filePath,
  serial: reported.serial,
  hardware: reported.hardware,
  firmwareVersion: reported.firmwareVersion,
  heartbeatIntervalS: z.number().int().positive().default(AGENT_DEFAULTS.heartbeatIntervalS),
  keepaliveS: z.number().int().min(5).max(65_535).default(AGENT_DEFAULTS.keepaliveS),
  backoff: z
    .strictObject({
      initialMs: z.number().int().positive().default(AGENT_DEFAULTS.backoff.initialMs),
      maxMs: z.number().int().positive().default(AGENT_DEFAULTS.backoff.maxMs),
    })
    .prefault({}),
  region: reported.region,
  tags: reported.tags,
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Reads and validates a config file; throws ConfigError naming the file and field. */
export async function loadAgentConfig(configPath: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (err) {
    throw new ConfigError(`agent config ${configPath} cannot be read: ${(err as Error).message}`);
  }
  return parseAgentConfig(text, configPath);
}

/** Pure: parses config text; `name` decides JSON vs YAML and appears in error messages. */
export function parseAgentConfig(text: string, name: string): AgentConfig {
  const isJson = name.endsWith('.json');
  let raw: unknown;
  try {
    raw = isJson ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `agent config ${name} is not valid ${isJson ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  const result = agentConfigSchema.safeParse(raw ?? {}, {
    // "is required" reads better than zod's "expected string, received undefined".
    error: (issue) =>
      issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined,
  });
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`,
  );
  throw new ConfigError(`invalid agent config ${name}:\n  ${lines.join('\n  ')}`, { issues: lines });
}

/** Reads the PEM files a config names and builds the agent options. */
export async function agentOptionsFromConfig(config: AgentConfig, configPath: string): Promise<AgentOptions> {
  const base = dirname(configPath);
  const pem = async (field: 'caFile' | 'certFile' | 'keyFile') => {
    const path = resolve(base, config[field]);
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${field}: ${path} cannot be read: ${(err as Error).message}`);
    }
  };
  const options: AgentOptions = {
    deviceId: config.deviceId,
    serverUrl: config.serverUrl,
    tls: { caPem: await pem('caFile'), certPem: await pem('certFile'), keyPem: await pem('keyFile') },
    identity: { serial: config.serial, hardware: config.hardware },
    firmwareVersion: config.firmwareVersion,
    heartbeatIntervalS: config.heartbeatIntervalS,
    keepaliveS: config.keepaliveS,
    backoff: config.backoff,
  };
  if (config.region !== undefined) options.region = config.region;
  if (config.tags !== undefined) options.tags = config.tags;
  return options;
}
