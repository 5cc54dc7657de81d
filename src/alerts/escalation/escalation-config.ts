/**
 * Notification channels and escalation policies (`alerts.channels`, `alerts.escalation` in the
 * server config): one schema, checked as a whole so a bad reference names its field.
 */
import { z } from 'zod';
import { alertSeverities, type AlertSeverity } from '../alert.ts';

/** Max notifications per window on a channel; past it they are grouped into one digest. */
const rateLimitSchema = z
  .strictObject({
    max: z.number().int().min(1).max(100_000).default(20),
    windowS: z.number().int().min(1).max(86_400).default(300),
    /** Alerts listed by name in a digest; the rest are only counted. */
    digestListMax: z.number().int().min(1).max(1000).default(10),
  })
  .prefault({});

/** Retry backoff: `initialMs * 2^(attempt-1)`, capped at `maxMs`, with full jitter. */
const backoffSchema = z
  .strictObject({
    initialMs: z.number().int().min(1).max(3_600_000).default(1000),
    maxMs: z.number().int().min(1).max(86_400_000).default(300_000),
  })
  .prefault({});

const delivery = {
  /** One attempt may take this long before it counts as failed (and retryable). */
  timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  /** Attempts in all, the first included; then the notification is marked failed. */
  maxAttempts: z.number().int().min(1).max(100).default(5),
  backoff: backoffSchema,
  /** Deliveries in flight at once on this channel. */
  concurrency: z.number().int().min(1).max(100).default(4),
  rateLimit: rateLimitSchema,
};

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

export const webhookChannelSchema = z
  .strictObject({
    type: z.literal('webhook'),
    url: httpUrl,
    /** HMAC-SHA256 key for X-Flotilla-Signature; or read from secretFile (one of the two). */
    secret: z.string().min(16, 'at least 16 characters').optional(),
    secretFile: z.string().min(1).optional(),
    ...delivery,
  })
  .refine((c) => (c.secret === undefined) !== (c.secretFile === undefined), {
    message: 'exactly one of secret and secretFile is required',
    path: ['secret'],
  });

export const emailChannelSchema = z.strictObject({
  type: z.literal('email'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte (port 465); otherwise STARTTLS when offered. */
  secure: z.boolean().default(false),
  /** Refuse to send unless STARTTLS succeeds (ignored with secure). */
  requireTls: z.boolean().default(true),
  auth: z.strictObject({ user: z.string().min(1), pass: z.string().min(1) }).optional(),
  from: z.email(),
  to: z.array(z.email()).min(1),
  ...delivery,
});

export const logChannelSchema = z.strictObject({
  type: z.literal('log'),
  rateLimit: rateLimitSchema,
});

export const channelSchema = z.discriminatedUnion('type', [
  webhookChannelSchema,
  emailChannelSchema,
  logChannelSchema,
]);
export type ChannelConfig = z.infer<typeof channelSchema>;
export type WebhookChannelConfig = z.infer<typeof webhookChannelSchema>;
export type EmailChannelConfig = z.infer<typeof emailChannelSchema>;

export const channelNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'channel names are lower-case [a-z0-9_-]');

const stepSchema = z.strictObject({
  /** Seconds after the chain started (the alert opened, or its severity rose); 0 = at once. */
  afterS: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400),
  channels: z.array(channelNameSchema).min(1),
});
export type EscalationStep = z.infer<typeof stepSchema>;

const chainSchema = z.array(stepSchema).max(20);
const logAtOnce = (): EscalationStep[] => [{ afterS: 0, channels: ['log'] }];

export const escalationSchema = z
  .strictObject({
    /** How often due notifications are looked for. */
    tickIntervalS: z.number().min(0.05).max(600).default(5),
    /** Tell the channels that were notified when the alert resolves. */
    notifyResolved: z.boolean().default(true),
    /** Base of the link in each notification, e.g. https://flotilla.example.com (default: the API URL). */
    linkBaseUrl: httpUrl.optional(),
    policies: z
      .strictObject({
        info: chainSchema.default(logAtOnce),
        warning: chainSchema.default(logAtOnce),
        critical: chainSchema.default(logAtOnce),
      })
      .prefault({}),
  })
  .prefault({});

export const alertsConfigSchema = z
  .strictObject({
    /** How often every alert rule is evaluated (docs/alerts.md, "Evaluation"). */
    evaluationIntervalS: z.number().min(1).max(86_400).default(60),
    channels: z.record(channelNameSchema, channelSchema).default({}),
    escalation: escalationSchema,
  })
  .prefault({})
  .superRefine((config, ctx) => {
    const logOverride = config.channels['log'];
    if (logOverride !== undefined && logOverride.type !== 'log')
      ctx.addIssue({
        code: 'custom',
        path: ['channels', 'log', 'type'],
        message: '`log` is the log channel',
      });
    for (const severity of alertSeverities) {
      const chain = config.escalation.policies[severity];
      chain.forEach((step, index) => {
        const path = ['escalation', 'policies', severity, index];
        const previous = chain[index - 1];
        if (previous !== undefined && step.afterS <= previous.afterS)
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'afterS'],
            message: `steps must have increasing delays (${step.afterS} after ${previous.afterS})`,
          });
        step.channels.forEach((name, at) => {
          if (name !== 'log' && config.channels[name] === undefined)
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'channels', at],
              message: `unknown channel "${name}" (configured: ${['log', ...Object.keys(config.channels)].join(', ')})`,
            });
        });
      });
    }
  });
export type AlertsConfig = z.infer<typeof alertsConfigSchema>;
export type EscalationConfig = AlertsConfig['escalation'];

/** The chain for a severity. */
export const chainFor = (config: EscalationConfig, severity: AlertSeverity): EscalationStep[] =>
  config.policies[severity];
