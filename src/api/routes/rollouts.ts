/** Rollout routes of the management API: create, show and steer staged rollouts (issue 5). */
import { z } from 'zod';
import { gateNames } from '../../ota/rollouts/gates.ts';
import { rolloutSpecSchema } from '../../ota/rollouts/rollout-spec.ts';
import { rolloutStateSchema } from '../../ota/rollouts/rollout-state.ts';
import type { RolloutService } from '../../ota/rollouts/rollout-service.ts';
import { timelineEventSchema } from '../../ota/rollouts/timeline.ts';
import { scopedWhere, type DeviceScope } from '../../access/principal.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const rolloutSchema = z.object({
  id: z.string(),
  spec: rolloutSpecSchema,
  state: rolloutStateSchema,
  version: z.number().int().describe('Increments on every state change'),
  createdBy: z.string(),
  createdAtMs: z.number().int(),
  updatedAtMs: z.number().int(),
});

const countsSchema = z
  .record(z.string(), z.number().int())
  .describe('Devices per state; states with none are absent');

const stageViewSchema = z.object({
  stageIndex: z.number().int(),
  current: z.boolean(),
  devices: z.number().int(),
  skipped: z.number().int(),
  summary: z.object({
    eligible: z.number().int(),
    notStarted: z.number().int(),
    byState: countsSchema,
    success: z.number().int(),
    failed: z.number().int(),
    stuck: z.number().int(),
    reported: z.number().int(),
    cancelled: z.number().int(),
  }),
  gates: z.array(
    z.object({
      gate: z.enum(gateNames),
      metric: z.string().optional(),
      value: z.number().nullable(),
      threshold: z.number(),
      status: z.enum(['pass', 'fail', 'pending']),
      detail: z.string(),
    }),
  ),
});

export const rolloutViewSchema = z.object({
  rollout: rolloutSchema,
  stages: z.array(stageViewSchema),
  devices: countsSchema,
  timeline: z.array(timelineEventSchema),
});

export const createdSchema = z.object({
  rollout: rolloutSchema,
  stageSizes: z.array(z.number().int()),
  excluded: z.array(z.object({ deviceId: z.string(), reason: z.string() })),
});

export const dryRunSchema = z.object({
  matched: z.number().int(),
  devices: z.number().int(),
  stageSizes: z.array(z.number().int()),
  sample: z.array(z.string()),
  excluded: z.array(z.object({ deviceId: z.string(), reason: z.string() })),
});

const idParams = z.strictObject({ id: z.string().min(1).max(128) });
const noteBody = z.strictObject({ note: z.string().max(1000).optional() }).prefault({});

const actions = ['pause', 'resume', 'approve', 'cancel'] as const;

/**
 * A rollout spec whose selector is ANDed with `scope` (a scoped release manager reaches its devices
 * only). Anything malformed is passed on untouched for the service to refuse with its field.
 */
function scopedSpec(body: unknown, scope: DeviceScope): unknown {
  if (scope.kind === 'all' || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const spec = body as Record<string, unknown>;
  const selector = spec['selector'] ?? {};
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) return body;
  const where = (selector as Record<string, unknown>)['where'];
  if (where !== undefined && typeof where !== 'string') return body;
  return { ...spec, selector: { ...selector, where: scopedWhere(scope, where) } };
}

export function rolloutRoutes(deps: { service: RolloutService }): ApiRoute[] {
  const { service } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/rollouts',
      operationId: 'createRollout',
      summary: 'Plan a staged rollout of a release over the devices the selector matches',
      tag: 'rollouts',
      permission: 'rollouts:write',
      body: z.unknown().describe('A rollout spec (docs/rollouts.md), validated by the service'),
      response: createdSchema,
      status: 201,
      errors: [400, 409],
      handler: ({ body, principal }) =>
        service.create(scopedSpec(body, principal.deviceScope('rollouts:write')), principal.actor),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/rollouts/dry-run',
      operationId: 'dryRunRollout',
      summary:
        'How many devices (and which) a rollout spec would update, and its stage sizes; nothing is stored',
      tag: 'rollouts',
      permission: 'rollouts:read',
      body: z.unknown().describe('A rollout spec (docs/rollouts.md), as for createRollout'),
      response: dryRunSchema,
      errors: [400],
      handler: ({ body, principal }) =>
        service.dryRun(scopedSpec(body, principal.deviceScope('rollouts:read'))),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/rollouts',
      operationId: 'listRollouts',
      summary: 'Rollouts, newest first',
      tag: 'rollouts',
      permission: 'rollouts:read',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ items: z.array(rolloutSchema) }),
      errors: [400],
      handler: async ({ query }) => ({ items: await service.list(query.limit) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/rollouts/{id}',
      operationId: 'getRollout',
      summary: 'A rollout: state, devices per state per stage, gate values against thresholds, timeline',
      tag: 'rollouts',
      permission: 'rollouts:read',
      params: idParams,
      response: rolloutViewSchema,
      errors: [404],
      handler: ({ params }) => service.show(params.id),
    }),
    ...actions.map((action) =>
      defineRoute({
        method: 'POST',
        path: `/api/v1/rollouts/{id}/${action}`,
        operationId: `${action}Rollout`,
        summary: `${action[0]?.toUpperCase() ?? ''}${action.slice(1)} a rollout (409 when its status does not allow it)`,
        tag: 'rollouts',
        permission: 'rollouts:write',
        params: idParams,
        body: noteBody,
        response: rolloutSchema,
        errors: [404, 409],
        handler: ({ params, body, principal }) => service[action](params.id, principal.actor, body.note),
      }),
    ),
  ];
}
