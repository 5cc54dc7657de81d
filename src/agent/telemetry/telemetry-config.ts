/**
 * The agent daemon's `telemetry:` section (seconds and bytes, as an operator writes them), and
 * its translation into TelemetrySettings (milliseconds). On unless `enabled: false`; every field
 * has a default (docs/telemetry-agent.md, "Configuration").
 */
import { z } from 'zod';
import { METRIC_NAME_PATTERN } from '../../contracts/telemetry-messages.ts';
import { OUTBOX_DEFAULTS } from './outbox.ts';
import { SENDER_DEFAULTS } from './sender.ts';
import { TELEMETRY_DEFAULTS, validateSettings, type TelemetrySettings } from './settings.ts';

const seconds = z.number().positive();
const cadence = (defaults: { sampleMs: number; windowMs: number }) =>
  z
    .strictObject({
      sampleS: seconds.default(defaults.sampleMs / 1000),
      windowS: seconds.default(defaults.windowMs / 1000),
    })
    .prefault({});

const telemetryFieldsSchema = z.strictObject({
  /** `false` turns telemetry off (so does `telemetry: false`). */
  enabled: z.boolean().default(true),
  /** `mqtt` (the agent's session) or `https` (uploads to the device API: wake, send, sleep). */
  transport: z.enum(['mqtt', 'https']).default('mqtt'),
  /** Device API for `https`; default `update.deviceHttpUrl`. */
  deviceHttpUrl: z
    .string()
    .regex(/^https:\/\/[^/]+\/?$/, 'must look like https://host:port')
    .optional(),
  /** Outbox directory; default `<stateDir>/telemetry`. */
  dir: z.string().min(1).optional(),
  health: cadence(TELEMETRY_DEFAULTS.health),
  app: cadence(TELEMETRY_DEFAULTS.app),
  /** Closed windows are queued and sent this often; events at once. */
  sendS: seconds.default(TELEMETRY_DEFAULTS.sendMs / 1000),
  /** Per-metric overrides of sampleS and windowS. */
  metrics: z
    .record(
      z.string().regex(METRIC_NAME_PATTERN, 'metric names match ^[a-z][a-z0-9_.]{0,63}$'),
      z.strictObject({ sampleS: seconds.optional(), windowS: seconds.optional() }),
    )
    .default({}),
  outbox: z
    .strictObject({
      maxBytes: z.number().int().min(65_536).default(OUTBOX_DEFAULTS.maxBytes),
      maxBatches: z.number().int().min(1).default(OUTBOX_DEFAULTS.maxBatches),
    })
    .prefault({}),
  ack: z
    .strictObject({
      timeoutS: seconds.default(SENDER_DEFAULTS.ackTimeoutMs / 1000),
      maxInFlight: z.number().int().min(1).max(100).default(SENDER_DEFAULTS.maxInFlight),
      retryInitialS: seconds.default(SENDER_DEFAULTS.retry.initialMs / 1000),
      retryMaxS: seconds.default(SENDER_DEFAULTS.retry.maxMs / 1000),
    })
    .prefault({}),
  /** The boot event's code at start (e.g. from the bootloader); default `agent_start`. */
  bootReason: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
    .default('agent_start'),
});

export const telemetryConfigSchema = telemetryFieldsSchema.superRefine((config, ctx) => {
  try {
    validateSettings(settingsFromConfig(config));
  } catch (err) {
    // The message starts with the field (`telemetry.health: …`).
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^telemetry\./, '') });
  }
});
export type TelemetryConfig = z.output<typeof telemetryConfigSchema>;

/** The cadences of a config section, in milliseconds. */
export function settingsFromConfig(config: z.output<typeof telemetryFieldsSchema>): TelemetrySettings {
  const ms = (s: number) => Math.round(s * 1000);
  const metrics: TelemetrySettings['metrics'] = {};
  for (const [name, override] of Object.entries(config.metrics)) {
    metrics[name] = {
      ...(override.sampleS !== undefined ? { sampleMs: ms(override.sampleS) } : {}),
      ...(override.windowS !== undefined ? { windowMs: ms(override.windowS) } : {}),
    };
  }
  return {
    health: { sampleMs: ms(config.health.sampleS), windowMs: ms(config.health.windowS) },
    app: { sampleMs: ms(config.app.sampleS), windowMs: ms(config.app.windowS) },
    sendMs: ms(config.sendS),
    metrics,
  };
}
