/** Deployment routes of the management API: who should install which release, and how it went. */
import { z } from 'zod';
import { maintenanceWindowSchema } from '../../contracts/maintenance-window.ts';
import { updateFailureReasons } from '../../contracts/update-messages.ts';
import {
  deployRequestSchema,
  type DeployRequest,
  type DeploymentService,
} from '../../ota/deployments/deployment-service.ts';
import { executionStates } from '../../store/update-types.ts';
import type { Principal } from '../../access/principal.ts';
import { NotFoundError } from '../../infra/errors.ts';
import type { DeviceScope } from '../device-scope.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const deploymentSchema = z.object({
  id: z.string(),
  hardwareModel: z.string(),
  version: z.string(),
  target: z.string(),
  installNow: z.boolean(),
  force: z.boolean(),
  installWindow: maintenanceWindowSchema.nullable().describe('devices install only while it is open'),
  source: z.string().describe('`manual`, or `rollout:<id>`'),
  createdBy: z.string(),
  createdAt: z.string(),
  cancelledAt: z.string().nullable(),
});

export const executionSchema = z.object({
  deviceId: z.string(),
  deploymentId: z.string(),
  state: z.enum(executionStates),
  progress: z.number().nullable(),
  reason: z.enum(updateFailureReasons).nullable(),
  detail: z.string().nullable(),
  delta: z.boolean().nullable(),
  bytes: z.number().int().nullable(),
  lastSeq: z.number().int().nullable(),
  offeredAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const deployResultSchema = z.object({
  deployment: deploymentSchema,
  offered: z.array(z.string()),
  skipped: z.array(
    z.object({ deviceId: z.string(), reason: z.enum(['already_installed', 'incompatible_revision']) }),
  ),
  replaced: z.array(z.object({ deviceId: z.string(), deploymentId: z.string() })),
});

export const deploymentSummarySchema = z.object({
  deployment: deploymentSchema,
  counts: z
    .record(z.string(), z.number().int())
    .describe('Executions per state; states with none are absent'),
  devices: z.object({
    items: z.array(
      executionSchema.extend({
        firmwareVersion: z.string().nullable().describe('What the device last reported in state/reported'),
      }),
    ),
    nextCursor: z.string().optional(),
  }),
});

export const cancelResultSchema = z.object({ deployment: deploymentSchema, withdrawn: z.array(z.string()) });

export const updateHistorySchema = z.object({
  items: z.array(
    z.object({
      id: z.number().int(),
      deviceId: z.string(),
      deploymentId: z.string(),
      at: z.string(),
      state: z.enum(executionStates),
      seq: z.number().int().nullable(),
      reason: z.enum(updateFailureReasons).nullable(),
      detail: z.string().nullable(),
    }),
  ),
});

const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Page size, 1-1000'),
  cursor: z.string().min(1).optional().describe('nextCursor of the previous page'),
});
const idParams = z.strictObject({ id: z.string().min(1).max(128) });

/** Largest device list of one deployment (deployRequestSchema). */
const MAX_DEPLOY_DEVICES = 10_000;

/**
 * A deployment request narrowed to the caller's rollouts:write scope: named devices outside it are
 * unknown (404), and "every device of the model" becomes every device of the model inside it.
 */
async function scopedRequest(
  request: DeployRequest,
  principal: Principal,
  scope: DeviceScope,
): Promise<DeployRequest> {
  if (!scope.isScoped(principal, 'rollouts:write')) return request;
  if (request.deviceIds !== undefined) {
    const inside = new Set(await scope.filterDevices(principal, 'rollouts:write', request.deviceIds));
    const unknown = request.deviceIds.filter((id) => !inside.has(id));
    if (unknown.length > 0)
      throw new NotFoundError(`unknown device(s): ${unknown.slice(0, 20).join(', ')}`, { unknown });
    return request;
  }
  const deviceIds = await scope.devicesIn(
    principal,
    'rollouts:write',
    `model = ${JSON.stringify(request.model)}`,
  );
  if (deviceIds.length === 0)
    throw new NotFoundError(`no device of model ${request.model} in your scope`, { model: request.model });
  return { ...request, deviceIds: deviceIds.slice(0, MAX_DEPLOY_DEVICES) };
}

export function deploymentRoutes(deps: { service: DeploymentService; scope: DeviceScope }): ApiRoute[] {
  const { service, scope } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/firmware/deployments',
      operationId: 'createDeployment',
      summary: 'Offer a release to devices (default: every device of the model), pushed and pullable',
      tag: 'firmware',
      permission: 'rollouts:write',
      body: deployRequestSchema,
      response: deployResultSchema,
      status: 201,
      errors: [400, 404, 409],
      handler: async ({ body, source, principal }) =>
        service.deploy(await scopedRequest(body, principal, scope), { actor: principal.actor, source }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/firmware/deployments',
      operationId: 'listDeployments',
      summary: 'Deployments, newest first',
      tag: 'firmware',
      permission: 'rollouts:read',
      query: pageQuery,
      response: z.object({ items: z.array(deploymentSchema), nextCursor: z.string().optional() }),
      errors: [400],
      handler: ({ query }) => service.list({ limit: query.limit, cursor: query.cursor }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/firmware/deployments/{id}',
      operationId: 'getDeployment',
      summary: 'A deployment: counts per state and its devices (paged by device id)',
      tag: 'firmware',
      permission: 'rollouts:read',
      params: idParams,
      query: pageQuery,
      response: deploymentSummarySchema,
      errors: [400, 404],
      handler: ({ params, query }) =>
        service.summary(params.id, { limit: query.limit, cursor: query.cursor }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/firmware/deployments/{id}/cancel',
      operationId: 'cancelDeployment',
      summary: 'Withdraw the offer from every device that has not finished (idempotent)',
      tag: 'firmware',
      permission: 'rollouts:write',
      params: idParams,
      response: cancelResultSchema,
      errors: [404],
      handler: ({ params, source, principal }) =>
        service.cancel(params.id, { actor: principal.actor, source }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/{id}/updates',
      operationId: 'listDeviceUpdates',
      summary: "A device's update status transitions across deployments, newest first",
      tag: 'devices',
      permission: 'rollouts:read',
      params: idParams,
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: updateHistorySchema,
      errors: [400, 404],
      handler: async ({ params, query, principal }) => {
        await scope.requireDevice(principal, 'rollouts:read', params.id);
        return { items: await service.history(params.id, query.limit) };
      },
    }),
  ];
}
