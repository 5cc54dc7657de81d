/**
 * Telemetry routes of the management API (issue 6): series per device or group at raw, hourly or
 * daily resolution, latest values per device, and events. See docs/telemetry.md, "Query API".
 */
import { z } from 'zod';
import {
  eventSeverities,
  METRIC_NAME_PATTERN,
  telemetryEventSchema,
} from '../../contracts/telemetry-messages.ts';
import type { Clock } from '../../infra/clock.ts';
import type { RollupScope, TelemetryStore } from '../../store/telemetry-types.ts';
import { ForbiddenError } from '../../infra/errors.ts';
import type { DeviceScope } from '../device-scope.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

const DAY_MS = 86_400_000;

/** ms since the epoch, or an ISO 8601 time. */
export const timeParam = z
  .string()
  .transform((value, ctx) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isSafeInteger(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(value)} is neither ms since the epoch nor an ISO 8601 time`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .describe('ms since the epoch or an ISO 8601 time');

const metricParam = z.string().regex(METRIC_NAME_PATTERN, 'metric names match ^[a-z][a-z0-9_.]{0,63}$');
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .union([item, z.array(item)])
    .transform((value) => (Array.isArray(value) ? value : [value]) as z.output<T>[]);

export const seriesQuery = z
  .strictObject({
    device: z.string().min(1).max(128).optional().describe('A device id'),
    model: z.string().min(1).max(64).optional().describe('Every device of this hardware model'),
    firmware: z.string().min(1).max(64).optional().describe('Every device running this firmware version'),
    fleet: z.enum(['true']).optional().describe('Every device'),
    metric: metricParam.describe('Metric name, e.g. battery_pct'),
    resolution: z
      .enum(['raw', 'hour', 'day'])
      .default('hour')
      .describe('raw windows, or hourly or daily rollups'),
    from: timeParam
      .optional()
      .describe('Start (inclusive) of the window or bucket start; default: to - 24 h'),
    to: timeParam.optional().describe('End (exclusive); default: now'),
    limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe('Points at most, oldest first'),
  })
  .refine((q) => [q.device, q.model, q.firmware, q.fleet].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of device, model, firmware or fleet=true',
  });

export const seriesPointSchema = z.object({
  deviceId: z.string().nullable().describe('The device of a raw window; null for rollup buckets'),
  startMs: z.number().int(),
  endMs: z.number().int(),
  min: z.number(),
  max: z.number(),
  avg: z.number(),
  sum: z.number(),
  count: z.number().int(),
  last: z.number(),
  lastAtMs: z.number().int(),
});

export const seriesResponseSchema = z.object({
  scope: z.enum(['device', 'model', 'firmware', 'fleet']),
  key: z.string(),
  metric: z.string(),
  resolution: z.enum(['raw', 'hour', 'day']),
  fromMs: z.number().int(),
  toMs: z.number().int(),
  points: z.array(seriesPointSchema),
});

export const latestResponseSchema = z.object({
  items: z.array(
    z.object({
      deviceId: z.string(),
      metric: z.string(),
      kind: z.enum(['health', 'app']),
      atMs: z.number().int(),
      value: z.number(),
    }),
  ),
});

export const eventsResponseSchema = z.object({
  items: z.array(telemetryEventSchema.extend({ deviceId: z.string(), seq: z.number().int() })),
});

/** [from, to): to defaults to now, from to 24 h before it; 400 unless from < to. */
function timeRange(
  query: { from?: number | undefined; to?: number | undefined },
  clock: Clock,
  ctx: z.RefinementCtx,
): void {
  const toMs = query.to ?? clock.now();
  const fromMs = query.from ?? toMs - DAY_MS;
  if (fromMs >= toMs) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
}

/** Per-device reads are narrowed to the caller's telemetry:read scope; fleet-wide rollups need it unscoped. */
export function telemetryRoutes(deps: {
  store: TelemetryStore;
  clock: Clock;
  scope: DeviceScope;
}): ApiRoute[] {
  const { store, clock, scope: deviceScope } = deps;
  const range = (q: { from?: number | undefined; to?: number | undefined }) => {
    const toMs = q.to ?? clock.now();
    return { fromMs: q.from ?? toMs - DAY_MS, toMs };
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/telemetry/series',
      operationId: 'telemetrySeries',
      summary: 'A metric over time for a device or a group: raw windows, or hourly or daily rollups',
      tag: 'telemetry',
      permission: 'telemetry:read',
      query: seriesQuery.superRefine((q, ctx) => timeRange(q, clock, ctx)),
      response: seriesResponseSchema,
      errors: [400],
      handler: async ({ query, principal }) => {
        if (query.device !== undefined)
          await deviceScope.requireDevice(principal, 'telemetry:read', query.device);
        else if (deviceScope.isScoped(principal, 'telemetry:read'))
          throw new ForbiddenError(
            'model, firmware and fleet rollups cover devices outside your scope: ask for a device',
            {
              missing: 'telemetry:read',
            },
          );
        const scope: RollupScope = query.device
          ? 'device'
          : query.model
            ? 'model'
            : query.firmware
              ? 'firmware'
              : 'fleet';
        const key = query.device ?? query.model ?? query.firmware ?? '';
        const { fromMs, toMs } = range(query);
        const points = await store.querySeries({
          scope,
          key,
          metric: query.metric,
          resolution: query.resolution,
          fromMs,
          toMs,
          limit: query.limit,
        });
        return { scope, key, metric: query.metric, resolution: query.resolution, fromMs, toMs, points };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/telemetry/latest',
      operationId: 'telemetryLatest',
      summary: 'The latest value of each metric of the devices',
      tag: 'telemetry',
      permission: 'telemetry:read',
      query: z.strictObject({
        device: listOf(z.string().min(1).max(128))
          .refine((ids) => ids.length <= 1000, 'at most 1000 devices')
          .describe('Device id; repeat for several (up to 1000)'),
        metric: listOf(metricParam).optional().describe('Only these metrics; repeat for several'),
      }),
      response: latestResponseSchema,
      errors: [400],
      handler: async ({ query, principal }) => ({
        items: await store.latest(
          await deviceScope.filterDevices(principal, 'telemetry:read', query.device),
          query.metric,
        ),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/telemetry/events',
      operationId: 'telemetryEvents',
      summary: "A device's events (errors, boots, update statuses), newest first",
      tag: 'telemetry',
      permission: 'telemetry:read',
      query: z
        .strictObject({
          device: z.string().min(1).max(128).describe('Device id'),
          type: listOf(z.enum(['error', 'boot', 'update']))
            .optional()
            .describe('Only these types; repeat'),
          severity: listOf(z.enum(eventSeverities)).optional().describe('Only these severities; repeat'),
          from: timeParam.optional().describe('Start (inclusive); default: to - 24 h'),
          to: timeParam.optional().describe('End (exclusive); default: now'),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        })
        .superRefine((q, ctx) => timeRange(q, clock, ctx)),
      response: eventsResponseSchema,
      errors: [400],
      handler: async ({ query, principal }) => {
        await deviceScope.requireDevice(principal, 'telemetry:read', query.device);
        return {
          items: await store.listEvents({
            deviceId: query.device,
            ...(query.type && { types: query.type }),
            ...(query.severity && { severities: query.severity }),
            ...range(query),
            limit: query.limit,
          }),
        };
      },
    }),
  ];
}
