/**
 * The Flotilla configuration a plan is checked against: the server's config (src/config/schema.ts),
 * the agent's telemetry section (src/agent/telemetry/telemetry-config.ts), the update client's
 * rollback settings, the rollout stages and the alert rules — each through its own schema, so a
 * planned value is exactly what Flotilla would accept. Absent fields are Flotilla's defaults.
 * With `--server` the server's own values replace the planned ones (live-context.ts). Pure.
 */
import { z } from 'zod';
import { serverConfigSchema } from '../config/schema.ts';
import { telemetryConfigSchema } from '../agent/telemetry/telemetry-config.ts';
import { AGENT_DEFAULTS } from '../agent/types.ts';
import { alertRuleSchema } from '../alerts/rules/alert-rule.ts';
import { defaultAlertRules } from '../alerts/rules/default-rules.ts';
import { DEFAULT_STAGE_PERCENTS, gatesSchema, stageSchema } from '../ota/rollouts/rollout-spec.ts';

export const provisioningMethods = ['zero-touch', 'factory-certificate', 'manual'] as const;

const provisioningSchema = z
  .strictObject({
    /** zero-touch: a factory batch's claim certificate; factory-certificate: `factory sign-csr`; manual: an operator registers each device. */
    method: z.enum(provisioningMethods).default('zero-touch'),
    /** How a device gets its owner: `api` (tags/owner set by the ordering system), `manual` (an operator per device). */
    ownerAssignment: z.enum(['api', 'manual']).default('api'),
  })
  .prefault({});

const updateSchema = z
  .strictObject({
    /** The agent takes updates (its `update:` section is present). */
    enabled: z.boolean().default(true),
    /** `tuf`: TUF metadata (Ed25519) verified by the agent; `tuf+minisign`: images also carry a minisign signature. */
    signatures: z.enum(['tuf', 'tuf+minisign', 'none']).default('tuf'),
    /** A failed trial boot or health check returns to the previous image without a person. */
    automaticRollback: z.boolean().default(true),
    /** The agent's `update.health.rounds`: failed health rounds before rolling back (0 = no health check). */
    healthRounds: z.number().int().min(0).max(20).default(3),
    /** The agent's `update.health.connectWithinS`. */
    connectWithinS: z.number().int().positive().default(120),
    /** `auto`: deltas when the server has one, else the full image; `always`: refuse full images; `never`. */
    deltas: z.enum(['auto', 'always', 'never']).default('auto'),
  })
  .prefault({});

const defaultStages = DEFAULT_STAGE_PERCENTS.map((percent) => ({ percent }));

const rolloutsSchema = z
  .strictObject({
    stages: z.array(stageSchema).min(1).prefault(defaultStages),
    gates: gatesSchema.prefault({}),
  })
  .prefault({});

const agentSchema = z
  .strictObject({
    /** The agent's `telemetry:` section; absent = the plan chooses (decisions.ts). */
    telemetry: telemetryConfigSchema.optional(),
    heartbeatIntervalS: z.number().int().positive().default(AGENT_DEFAULTS.heartbeatIntervalS),
    keepaliveS: z.number().int().min(5).max(65_535).default(AGENT_DEFAULTS.keepaliveS),
  })
  .prefault({});

export const plannedConfigurationSchema = z
  .strictObject({
    provisioning: provisioningSchema,
    update: updateSchema,
    rollouts: rolloutsSchema,
    agent: agentSchema,
    /** The server's config file (any subset of it). */
    server: serverConfigSchema.prefault({}),
    /** Alert rules; default: the shipped rules (src/alerts/rules/default-rules.ts). */
    alertRules: z.array(alertRuleSchema).default(() => [...defaultAlertRules]),
  })
  .prefault({});

export type PlannedConfiguration = z.output<typeof plannedConfigurationSchema>;
