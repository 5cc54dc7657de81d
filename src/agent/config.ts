/**
 * The agent daemon's config file (YAML, or JSON when the name ends in .json): one schema,
 * errors that name the field. Relative file paths are resolved against the config file's
 * directory, so a config and its certificates can be moved together.
 *
 * Two ways to get an identity:
 * - a certificate made at the factory: `deviceId`, `serverUrl`, `caFile`, `certFile`, `keyFile`;
 * - zero-touch provisioning: `provisioning` (the batch's claim credential) and `stateDir`, where
 *   the provisioned identity is kept (identity-store.ts).
 * With a `stateDir` the agent also renews its certificate before it expires.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { stateReportedSchema } from '../contracts/device-messages.ts';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';
import { commandNameSchema } from '../contracts/job-messages.ts';
import { ConfigError } from '../infra/errors.ts';
import { AGENT_DEFAULTS, type AgentOptions } from './types.ts';
import { telemetryConfigSchema, type TelemetryConfig } from './telemetry/telemetry-config.ts';

const reported = stateReportedSchema.shape;
const filePath = z.string().min(1, 'must be a file path');
const mqttsUrl = z.string().regex(/^mqtts:\/\/[^/]+\/?$/, 'must look like mqtts://host:port');

const provisioningSchema = z.strictObject({
  /** The serial printed on the device; it becomes the device id. */
  serial: z.string().regex(DEVICE_ID_PATTERN, 'must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}'),
  /** The gateway (`mqtts://host:port`) or the device HTTPS API (`https://host:port`). */
  url: z.string().regex(/^(mqtts|https):\/\/[^/]+/, 'must look like mqtts://host:port or https://host:port'),
  /** The factory batch's claim certificate and key, and the CA chain to trust for the server (PEM). */
  claimCertFile: filePath,
  claimKeyFile: filePath,
  caChainFile: filePath,
});

/**
 * Firmware updates (A/B slots). Absent = the agent does not take updates. See docs/update-client.md.
 */
const updateSchema = z.strictObject({
  /** The device HTTPS API: offers, TUF metadata and images (`https://host:8443`). */
  deviceHttpUrl: z.string().regex(/^https:\/\/[^/]+\/?$/, 'must look like https://host:port'),
  /** The TUF root.json shipped with the device (copied into the metadata dir on first start). */
  tufRootFile: filePath,
  /** Journal, part file and TUF metadata; default `<stateDir>/update`. */
  dir: filePath.optional(),
  slots: z.strictObject({
    a: filePath,
    b: filePath,
    /** Bytes per slot; images larger are refused (needed for block devices). */
    capacityBytes: z.number().int().positive().optional(),
  }),
  /** Length in bytes of the factory image in the booted slot, so deltas can be used from it. */
  installedLength: z.number().int().positive().optional(),
  boot: z.discriminatedUnion('kind', [
    /** A JSON env file with the simulated bootloader's logic (tests, simulation). */
    z.strictObject({ kind: z.literal('file'), envFile: filePath }),
    /** U-Boot through fw_printenv / fw_setenv (bootcount, upgrade_available). */
    z.strictObject({
      kind: z.literal('uboot'),
      scriptFile: filePath.default('/run/flotilla-fw_setenv.script'),
    }),
    /** GRUB through grub-editenv on its env block. */
    z.strictObject({ kind: z.literal('grub'), envFile: filePath.default('/boot/grub/grubenv') }),
  ]),
  /** The command that reboots the device; the agent exits after running it. */
  rebootCommand: z.array(z.string().min(1)).min(1).default(['systemctl', 'reboot']),
  health: z
    .strictObject({
      /** The trial boot must reach the server within this many seconds. */
      connectWithinS: z.number().int().positive().default(120),
      /** A custom check that must exit 0 (e.g. the application's self-test). */
      command: z.array(z.string().min(1)).min(1).optional(),
      /** Failed rounds before rolling back. */
      rounds: z.number().int().min(1).max(20).default(3),
      retryDelayS: z.number().int().min(0).default(10),
    })
    .prefault({}),
  /** Seconds between offer pulls (jittered ±25 %); default 6 h. */
  pollIntervalS: z
    .number()
    .int()
    .min(1)
    .default(6 * 60 * 60),
  /** Listen for pushed offers on MQTT as well as pulling; default true. */
  push: z.boolean().default(true),
  /** While this file exists, updates download but do not install (unless the offer forces it). */
  lockFile: filePath.optional(),
  /** minisign public key file; when set, images must also carry a valid minisign signature. */
  minisignPublicKeyFile: filePath.optional(),
});
export type AgentUpdateConfig = z.output<typeof updateSchema>;

const argvSchema = z.array(z.string().min(1)).min(1);

/** A custom command the device registers for remote jobs (docs/jobs-agent.md). */
const customCommandSchema = z.strictObject({
  name: commandNameSchema,
  /** Executable and arguments, run without a shell; params arrive as JSON on stdin. */
  argv: argvSchema,
  timeoutS: z.number().int().min(1).max(86_400).default(60),
  description: z.string().max(256).optional(),
});

/**
 * Remote jobs (docs/jobs-agent.md): on when there is a stateDir (the execution book lives there),
 * unless `enabled: false`.
 */
const jobsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Runs for a `reboot` job; absent → reboot jobs are rejected `not_configured`. */
  rebootCommand: argvSchema.optional(),
  /** Runs for a `recovery` job; absent → rejected `not_configured`. */
  recoveryCommand: argvSchema.optional(),
  /** Log files bundled by a `logs` job (oldest lines dropped to fit), before the agent's recent lines. */
  logFiles: z.array(filePath).max(16).default([]),
  /** Recent agent log lines kept in memory for `logs`. */
  logRingLines: z.number().int().min(0).max(100_000).default(2000),
  /** Where log bundles go; default update.deviceHttpUrl or telemetry.deviceHttpUrl. */
  deviceHttpUrl: z
    .string()
    .regex(/^https?:\/\/[^/]+\/?$/, 'must look like https://host:port')
    .optional(),
  /** Free bytes the self-test requires on the state dir's file system. */
  minFreeBytes: z
    .number()
    .int()
    .min(0)
    .default(16 * 1024 * 1024),
});
export type AgentJobsConfig = z.output<typeof jobsSchema>;

const fieldsSchema = z.strictObject({
  deviceId: z
    .string()
    .regex(DEVICE_ID_PATTERN, 'must match [A-Za-z0-9][A-Za-z0-9._-]{0,127} (the cert CN)')
    .optional(),
  /** With provisioning: overrides the URL the server names in its answer. */
  serverUrl: mqttsUrl.optional(),
  /** CA certificate that signed the server's certificate (PEM). */
  caFile: filePath.optional(),
  /** This device's client certificate and private key (PEM). */
  certFile: filePath.optional(),
  keyFile: filePath.optional(),
  provisioning: provisioningSchema.optional(),
  /** Where the provisioned or renewed identity is kept (a directory only the agent may read). */
  stateDir: filePath.optional(),
  renewal: z
    .strictObject({
      /** Renew once this fraction of the certificate's lifetime has passed. */
      atFraction: z.number().gt(0).lt(1).default(AGENT_DEFAULTS.renewal.atFraction),
      checkIntervalS: z
        .number()
        .int()
        .positive()
        .default(AGENT_DEFAULTS.renewal.checkIntervalMs / 1000),
    })
    .prefault({}),
  /** Reported in state/reported; defaults to provisioning.serial. */
  serial: reported.serial.optional(),
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
  update: updateSchema.optional(),
  /**
   * Telemetry (docs/telemetry-agent.md): on by default when there is a stateDir (the outbox lives
   * there) or the section names a `dir`; `telemetry: false` (or `enabled: false`) turns it off.
   */
  telemetry: z
    .preprocess((value) => (value === false ? { enabled: false } : value), telemetryConfigSchema)
    .optional(),
  jobs: jobsSchema.prefault({}),
  /** Custom commands offered to remote jobs; names must be unique. */
  commands: z
    .array(customCommandSchema)
    .max(64)
    .default([])
    .refine(
      (commands) => new Set(commands.map((c) => c.name)).size === commands.length,
      'command names must be unique',
    ),
});

/** Where the device's identity comes from; paths as written in the file. */
export type IdentitySource =
  | {
      kind: 'certificate';
      deviceId: string;
      serverUrl: string;
      caFile: string;
      certFile: string;
      keyFile: string;
    }
  | ({ kind: 'provisioning' } & z.output<typeof provisioningSchema>);

type IdentityFields = 'deviceId' | 'caFile' | 'certFile' | 'keyFile' | 'provisioning' | 'serial';
type ParsedConfig = Omit<z.output<typeof fieldsSchema>, IdentityFields | 'telemetry'> & {
  serial: string;
  identity: IdentitySource;
  /** Undefined: telemetry is off. */
  telemetry: TelemetryConfig | undefined;
};

/**
 * On unless turned off: an absent section takes every default when the outbox has a home
 * (`<stateDir>/telemetry`); without a stateDir there is nowhere safe to queue, so it stays off.
 */
function resolveTelemetry(
  section: TelemetryConfig | undefined,
  stateDir: string | undefined,
): TelemetryConfig | undefined {
  if (section?.enabled === false) return undefined;
  if (section !== undefined) return section;
  return stateDir !== undefined ? telemetryConfigSchema.parse({}) : undefined;
}

const FACTORY_FIELDS = ['deviceId', 'caFile', 'certFile', 'keyFile'] as const;

/** The two identity forms, checked with errors that name each missing or misplaced field. */
export const agentConfigSchema = fieldsSchema.transform((fields, ctx): ParsedConfig => {
  const { deviceId, caFile, certFile, keyFile, provisioning, serial, telemetry: section, ...rest } = fields;
  const common = { ...rest, telemetry: resolveTelemetry(section, fields.stateDir) };
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (provisioning) {
    for (const field of FACTORY_FIELDS) {
      if (fields[field] !== undefined)
        problem(field, 'not used with provisioning (it comes from the server)');
    }
    if (fields.stateDir === undefined)
      problem('stateDir', 'is required with provisioning (the identity is kept there)');
    if (ctx.issues.length > 0) return z.NEVER;
    return {
      ...common,
      serial: serial ?? provisioning.serial,
      identity: { kind: 'provisioning', ...provisioning },
    };
  }
  const { serverUrl } = common;
  if (
    deviceId === undefined ||
    serverUrl === undefined ||
    caFile === undefined ||
    certFile === undefined ||
    keyFile === undefined ||
    serial === undefined
  ) {
    const given = { deviceId, serverUrl, caFile, certFile, keyFile, serial };
    for (const [field, value] of Object.entries(given)) {
      if (value === undefined) problem(field, 'is required (or configure provisioning)');
    }
    return z.NEVER;
  }
  return {
    ...common,
    serial,
    identity: { kind: 'certificate', deviceId, serverUrl, caFile, certFile, keyFile },
  };
});
export type AgentConfig = z.output<typeof agentConfigSchema>;

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

/** A path from the config, resolved against the config file's directory. */
export function configPath(configFile: string, path: string): string {
  return resolve(dirname(configFile), path);
}

/** Reads a PEM file the config names; the error names the field. */
export async function readConfigPem(configFile: string, field: string, path: string): Promise<string> {
  const resolved = configPath(configFile, path);
  try {
    return await readFile(resolved, 'utf8');
  } catch (err) {
    throw new ConfigError(`${field}: ${resolved} cannot be read: ${(err as Error).message}`);
  }
}

/** The agent options for an identity: everything but the TLS material comes from the config. */
export function agentOptionsFor(
  config: AgentConfig,
  identity: { deviceId: string; serverUrl: string; tls: AgentOptions['tls'] },
): AgentOptions {
  const options: AgentOptions = {
    deviceId: identity.deviceId,
    serverUrl: identity.serverUrl,
    tls: identity.tls,
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

/** Reads the PEM files of a factory-certificate config and builds the agent options. */
export async function agentOptionsFromConfig(config: AgentConfig, configFile: string): Promise<AgentOptions> {
  const { identity } = config;
  if (identity.kind !== 'certificate') {
    throw new ConfigError('this config provisions its identity: run it with the agent daemon');
  }
  const tls = {
    caPem: await readConfigPem(configFile, 'caFile', identity.caFile),
    certPem: await readConfigPem(configFile, 'certFile', identity.certFile),
    keyPem: await readConfigPem(configFile, 'keyFile', identity.keyFile),
  };
  return agentOptionsFor(config, { deviceId: identity.deviceId, serverUrl: identity.serverUrl, tls });
}
