/** Dynamic device groups: saved fleet queries, usable as `group = "name"` or `?group=name`. */
import { z } from 'zod';
import { deviceGroupSchema, groupNameSchema, newGroupSchema } from '../../contracts/device-group.ts';
import {
  groupOperationResultSchema,
  groupOperationSchema,
  type GroupOperation,
  type GroupOperations,
} from '../../groups/group-operations.ts';
import type { GroupService } from '../../groups/group-service.ts';
import { scopedWhere, type DeviceScope } from '../../access/principal.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

const nameParams = z.strictObject({ name: groupNameSchema });

export const groupListSchema = z.object({ items: z.array(deviceGroupSchema) });

/** The operation narrowed to `scope`: `all: true` becomes "every device of the scope". */
function scopedOperation(op: GroupOperation, scope: DeviceScope): GroupOperation {
  if (scope.kind === 'all') return op;
  return { ...op, all: false, where: scopedWhere(scope, op.where) };
}

export function groupRoutes(deps: { groups: GroupService; operations: GroupOperations }): ApiRoute[] {
  const { groups, operations } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/devices/operations',
      operationId: 'runGroupOperation',
      summary:
        'Act on the devices a fleet query or group selects: set/remove tags or move them to a static group; dryRun counts and lists them first',
      tag: 'groups',
      permission: 'devices:write',
      body: groupOperationSchema,
      response: groupOperationResultSchema,
      errors: [400, 409],
      handler: ({ body, principal }) =>
        operations.run(scopedOperation(body, principal.deviceScope('devices:write')), principal.actor),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/groups',
      operationId: 'createGroup',
      summary: 'Save a fleet query as a named dynamic group; the query is checked first',
      tag: 'groups',
      permission: 'groups:write',
      body: newGroupSchema,
      response: deviceGroupSchema,
      status: 201,
      errors: [400, 409],
      handler: ({ body }) => groups.create(body),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/groups',
      operationId: 'listGroups',
      summary: 'Every dynamic group, by name',
      tag: 'groups',
      permission: 'devices:read',
      response: groupListSchema,
      handler: async () => ({ items: await groups.list() }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/groups/{name}',
      operationId: 'getGroup',
      summary: 'One dynamic group',
      tag: 'groups',
      permission: 'devices:read',
      params: nameParams,
      response: deviceGroupSchema,
      errors: [400, 404],
      handler: ({ params }) => groups.get(params.name),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/groups/{name}',
      operationId: 'deleteGroup',
      summary: 'Delete a dynamic group; refused while another group refers to it',
      tag: 'groups',
      permission: 'groups:write',
      params: nameParams,
      response: z.object({ deleted: z.literal(true) }),
      errors: [400, 404, 409],
      handler: async ({ params }) => {
        await groups.delete(params.name);
        return { deleted: true as const };
      },
    }),
  ];
}
