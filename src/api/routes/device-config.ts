/**
 * Device configuration (docs/device-config.md): one device's desired/effective/reported
 * documents, the fleet and group defaults, and bulk edits. Reads need `config:read`, changes
 * `config:write`; both are narrowed to the caller's device scope for that permission.
 */
import { z } from 'zod';
import type { Principal } from '../../access/principal.ts';
import type { Permission } from '../../access/permissions.ts';
import { groupNameSchema } from '../../contracts/device-group.ts';
import { DEVICE_ID_PATTERN } from '../../contracts/topics.ts';
import {
  bulkConfigSchema,
  bulkResultSchema,
  configDefaultsSchema,
  defaultsChangeResultSchema,
  deviceConfigEditSchema,
  deviceConfigViewSchema,
  fleetDefaultsEditSchema,
  groupDefaultsEditSchema,
} from '../../device-config/config-api.ts';
import type { ConfigCaller, ConfigService } from '../../device-config/config-service.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

const deviceParams = z.strictObject({ id: z.string().regex(DEVICE_ID_PATTERN, 'not a device id') });
const groupParams = z.strictObject({ name: groupNameSchema });
const TAG = 'config';

const callerOf = (principal: Principal, permission: Permission): ConfigCaller => ({
  actor: principal.actor,
  scope: principal.deviceScope(permission),
});

export function deviceConfigRoutes(deps: { service: ConfigService }): ApiRoute[] {
  const { service } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/{id}/config',
      operationId: 'getDeviceConfig',
      summary:
        "One device's configuration: its own desired document, the effective one with each key's source, what it reported, its schema, pending restarts, rejections and whether it is in sync",
      tag: TAG,
      permission: 'config:read',
      params: deviceParams,
      response: deviceConfigViewSchema,
      errors: [400, 404],
      handler: ({ params, principal }) => service.get(callerOf(principal, 'config:read'), params.id),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/devices/{id}/config',
      operationId: 'setDeviceConfig',
      summary:
        "Set and unset keys of one device's own desired document; checked against the device's schema first (400 naming the key and rule), 409 when expectedVersion is stale",
      tag: TAG,
      permission: 'config:write',
      params: deviceParams,
      body: deviceConfigEditSchema,
      response: deviceConfigViewSchema,
      errors: [400, 404, 409],
      handler: ({ params, body, principal }) =>
        service.setDevice(callerOf(principal, 'config:write'), params.id, body),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/config/defaults',
      operationId: 'getFleetConfigDefaults',
      summary: 'The fleet-wide config defaults (below every group default and device document)',
      tag: TAG,
      permission: 'config:read',
      response: z.object({
        defaults: configDefaultsSchema.nullable(),
        groups: z.array(configDefaultsSchema),
      }),
      handler: async () => {
        const all = await service.listDefaults();
        return {
          defaults: all.find((doc) => doc.scope === 'fleet') ?? null,
          groups: all.filter((doc) => doc.scope === 'group'),
        };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/config/defaults',
      operationId: 'setFleetConfigDefaults',
      summary:
        'Set and unset keys of the fleet-wide defaults; devices whose schema refuses a key are listed as conflicts and do not get it',
      tag: TAG,
      permission: 'config:write',
      body: fleetDefaultsEditSchema,
      response: defaultsChangeResultSchema,
      errors: [400, 403, 409],
      handler: ({ body, principal }) => service.setFleetDefaults(callerOf(principal, 'config:write'), body),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/config/defaults',
      operationId: 'deleteFleetConfigDefaults',
      summary: 'Remove the fleet-wide defaults',
      tag: TAG,
      permission: 'config:write',
      response: defaultsChangeResultSchema,
      errors: [403, 404],
      handler: ({ principal }) => service.deleteFleetDefaults(callerOf(principal, 'config:write')),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/config/groups/{name}',
      operationId: 'getGroupConfigDefaults',
      summary: "A group's config defaults",
      tag: TAG,
      permission: 'config:read',
      params: groupParams,
      response: configDefaultsSchema,
      errors: [400, 404],
      handler: ({ params }) => service.getGroupDefaults(params.name),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/config/groups/{name}',
      operationId: 'setGroupConfigDefaults',
      summary:
        "Set and unset keys of a group's defaults (with its priority); members whose schema refuses a key are listed as conflicts and do not get it",
      tag: TAG,
      permission: 'config:write',
      params: groupParams,
      body: groupDefaultsEditSchema,
      response: defaultsChangeResultSchema,
      errors: [400, 403, 404, 409],
      handler: ({ params, body, principal }) =>
        service.setGroupDefaults(callerOf(principal, 'config:write'), params.name, body),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/config/groups/{name}',
      operationId: 'deleteGroupConfigDefaults',
      summary: "Remove a group's config defaults",
      tag: TAG,
      permission: 'config:write',
      params: groupParams,
      response: defaultsChangeResultSchema,
      errors: [400, 403, 404],
      handler: ({ params, principal }) =>
        service.deleteGroupDefaults(callerOf(principal, 'config:write'), params.name),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/config/bulk',
      operationId: 'bulkDeviceConfig',
      summary:
        'Set/unset keys in the own documents of the devices a query, group or id list selects; devices whose schema refuses the change are listed as conflicts and left unchanged; dryRun counts, lists and checks only',
      tag: TAG,
      permission: 'config:write',
      body: bulkConfigSchema,
      response: bulkResultSchema,
      errors: [400],
      handler: ({ body, principal }) => service.bulk(callerOf(principal, 'config:write'), body),
    }),
  ];
}
