/**
 * Loads the server config from a file, then environment variables, then CLI flags
 * (later sources override earlier ones), and validates it once. Errors name the field
 * and where its value came from.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../infra/errors.ts';
import { serverConfigSchema, type ServerConfig } from './schema.ts';

type Json = Record<string, unknown>;

/** Environment variable → config path, and how to read its value. */
export const envVariables: Record<string, { path: string[]; type: 'string' | 'int' | 'bool' | 'json' }> = {
  FLOTILLA_DATA_DIR: { path: ['dataDir'], type: 'string' },
  FLOTILLA_HTTP_HOST: { path: ['http', 'host'], type: 'string' },
  FLOTILLA_HTTP_PORT: { path: ['http', 'port'], type: 'int' },
  FLOTILLA_MQTT_HOST: { path: ['mqtt', 'host'], type: 'string' },
  FLOTILLA_MQTT_PORT: { path: ['mqtt', 'port'], type: 'int' },
  FLOTILLA_MQTT_PUBLIC_HOST: { path: ['mqtt', 'publicHost'], type: 'string' },
  FLOTILLA_DEVICE_HTTP_HOST: { path: ['deviceHttp', 'host'], type: 'string' },
  FLOTILLA_DEVICE_HTTP_PORT: { path: ['deviceHttp', 'port'], type: 'int' },
  FLOTILLA_DEVICE_CERT_VALIDITY_DAYS: { path: ['provisioning', 'deviceCertValidityDays'], type: 'int' },
  FLOTILLA_MAX_ARTIFACT_BYTES: { path: ['ota', 'maxArtifactBytes'], type: 'int' },
  FLOTILLA_STORE: { path: ['store', 'kind'], type: 'string' },
  FLOTILLA_POSTGRES_URL: { path: ['store', 'postgresUrl'], type: 'string' },
  FLOTILLA_POSTGRES_SCHEMA: { path: ['store', 'postgresSchema'], type: 'string' },
  FLOTILLA_LOG_LEVEL: { path: ['log', 'level'], type: 'string' },
  FLOTILLA_DEMO_DEVICES: { path: ['demoDevices'], type: 'int' },
  FLOTILLA_ALERTS_CHANNELS: { path: ['alerts', 'channels'], type: 'json' },
  FLOTILLA_ALERTS_ESCALATION: { path: ['alerts', 'escalation'], type: 'json' },
  FLOTILLA_AUTH_ENABLED: { path: ['auth', 'enabled'], type: 'bool' },
  FLOTILLA_AUTH_SESSION_IDLE_S: { path: ['auth', 'sessionIdleS'], type: 'int' },
  FLOTILLA_AUTH_SESSION_MAX_S: { path: ['auth', 'sessionMaxS'], type: 'int' },
  FLOTILLA_AUTH_TOKEN_MAX_LIFETIME_S: { path: ['auth', 'tokenMaxLifetimeS'], type: 'int' },
  FLOTILLA_AUTH_METRICS_PUBLIC: { path: ['auth', 'metricsPublic'], type: 'bool' },
};

export interface ConfigSources {
  /** Path of a JSON or YAML file; FLOTILLA_CONFIG when not given. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from CLI flags, already shaped like the config. */
  flags?: Json;
}

export function loadServerConfig(sources: ConfigSources = {}): ServerConfig {
  const env = sources.env ?? {};
  const origin = new Map<string, string>();
  const merged: Json = {};
  const file = sources.file ?? env['FLOTILLA_CONFIG'];
  if (file !== undefined && file !== '') mergeInto(merged, readConfigFile(file), origin, `file ${file}`, []);
  mergeInto(merged, fromEnv(env), origin, 'environment', []);
  if (sources.flags) mergeInto(merged, sources.flags, origin, 'command line', []);

  const result = serverConfigSchema.safeParse(merged);
  if (!result.success) throw configErrorFrom(result.error, origin);
  return result.data;
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file} cannot be read: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold an object at the top level`);
  }
  return parsed as Json;
}

function fromEnv(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  for (const [name, spec] of Object.entries(envVariables)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (spec.type === 'int') {
      if (!/^-?\d+$/.test(raw.trim())) {
        throw new ConfigError(`${spec.path.join('.')}: ${name}=${JSON.stringify(raw)} is not a whole number`);
      }
      value = Number(raw.trim());
    } else if (spec.type === 'bool') {
      value = parseBoolVariable(name, spec.path, raw);
    } else if (spec.type === 'json') {
      value = parseJsonVariable(name, spec.path, raw);
    }
    setPath(out, spec.path, value);
  }
  return out;
}

function parseBoolVariable(name: string, path: string[], raw: string): boolean {
  const text = raw.trim().toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new ConfigError(`${path.join('.')}: ${name}=${JSON.stringify(raw)} is not true or false`);
}

function parseJsonVariable(name: string, path: string[], raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new ConfigError(`${path.join('.')}: ${name} is not valid JSON: ${(err as Error).message}`);
  }
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1] as string] = value;
}

function mergeInto(
  target: Json,
  source: Json,
  origin: Map<string, string>,
  from: string,
  path: string[],
): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const here = [...path, key];
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) {
      mergeInto(current, value, origin, from, here);
    } else if (isPlainObject(value)) {
      target[key] = {};
      mergeInto(target[key] as Json, value, origin, from, here);
    } else {
      target[key] = value;
      origin.set(here.join('.'), from);
    }
  }
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function configErrorFrom(error: z.ZodError, origin: Map<string, string>): ConfigError {
  const lines = error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(top level)';
    const from = origin.get(field);
    return `${field}: ${issue.message}${from ? ` (from ${from})` : ''}`;
  });
  return new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`, { issues: lines });
}
