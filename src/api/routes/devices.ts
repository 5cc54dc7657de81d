/** Device registry routes of the management API. */
import { z } from 'zod';
import { connectionStateSchema, deviceSchema } from '../../contracts/device.ts';
import { groupNameSchema } from '../../contracts/device-group.ts';
import { queryLimits } from '../../fleet-query/index.ts';
import type { GroupService } from '../../groups/group-service.ts';
import type { Clock } from '../../infra/clock.ts';
import { NotFoundError } from '../../infra/errors.ts';
import type { DeviceFilter, DeviceStore } from '../../store/types.ts';
import { deviceSorts } from '../../store/device-sort.ts';
import type { Principal } from '../../access/principal.ts';
import type { DeviceScope } from '../device-scope.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

const tagFilter = z
  .union([z.string(), z.array(z.string())])
  .transform((value, ctx) => {
    const tags: Record<string, string> = {};
    for (const pair of Array.isArray(value) ? value : [value]) {
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: `tag filter ${JSON.stringify(pair)} must look like key=value`,
        });
        return z.NEVER;
      }
      tags[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return tags;
  })
  .describe('Tag filter key=value; repeat for several (all must match)');

const filterFields = {
  model: z.string().min(1).optional().describe('Hardware model, exact'),
  firmware: z.string().min(1).optional().describe('Firmware version, exact'),
  state: connectionStateSchema.optional().describe('Connection state'),
  tag: tagFilter.optional(),
  where: z
    .string()
    .min(1)
    .max(queryLimits.maxBytes)
    .optional()
    .describe(
      'Fleet query (docs/fleet-query.md), e.g. model = "tracker-2" and firmware < 2.4.0; a bad query is a 400 whose details give the position',
    ),
  group: groupNameSchema.optional().describe('Only devices of this saved group'),
};

export const countDevicesQuery = z.strictObject(filterFields);

export const deviceCountSchema = z.object({ count: z.number().int() });

export const listDevicesQuery = z.strictObject({
  ...filterFields,
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Page size, 1-1000'),
  cursor: z.string().min(1).optional().describe('nextCursor of the previous page (of the same sort)'),
  sort: z
    .enum(deviceSorts)
    .optional()
    .describe(
      'Order: id (default), lastSeen, firmware (text order), model or state; a leading - reverses. Ties by id; devices without the value come last in both directions',
    ),
});

export const devicePageSchema = z.object({
  items: z.array(deviceSchema),
  nextCursor: z.string().optional(),
});

export interface DeviceRouteDeps {
  store: DeviceStore;
  groups: GroupService;
  /** The reference time of `offline_for` and `age` in queries. */
  clock: Clock;
  /** Narrows every answer to the caller's devices:read scope. */
  scope: DeviceScope;
}

export function deviceRoutes(deps: DeviceRouteDeps): ApiRoute[] {
  const { store, groups, clock, scope } = deps;
  const toFilter = async (
    query: z.output<typeof countDevicesQuery>,
    principal: Principal,
  ): Promise<DeviceFilter> => {
    const where = await groups.deviceQuery(scope.where(principal, 'devices:read', query.where), query.group);
    return {
      hardwareModel: query.model,
      firmwareVersion: query.firmware,
      connectionState: query.state,
      tags: query.tag,
      ...(where === undefined ? {} : { where: { query: where, nowMs: clock.now() } }),
    };
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices',
      operationId: 'listDevices',
      summary: 'List devices, filtered, in pages ordered by id or by `sort`',
      tag: 'devices',
      permission: 'devices:read',
      query: listDevicesQuery,
      response: devicePageSchema,
      errors: [400],
      handler: async ({ query, principal }) =>
        store.listDevices(await toFilter(query, principal), {
          cursor: query.cursor,
          limit: query.limit,
          ...(query.sort === undefined ? {} : { sort: query.sort }),
        }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/count',
      operationId: 'countDevices',
      summary: 'How many devices match the filters (a dry run for group operations)',
      tag: 'devices',
      permission: 'devices:read',
      query: countDevicesQuery,
      response: deviceCountSchema,
      errors: [400],
      handler: async ({ query, principal }) => ({
        count: await store.countDevices(await toFilter(query, principal)),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/{id}',
      operationId: 'getDevice',
      summary: 'One device',
      tag: 'devices',
      permission: 'devices:read',
      params: z.strictObject({ id: z.string().min(1).max(128) }),
      response: deviceSchema,
      errors: [404],
      handler: async ({ params, principal }) => {
        await scope.requireDevice(principal, 'devices:read', params.id);
        const device = await store.getDevice(params.id);
        if (!device) throw new NotFoundError(`device ${params.id} not found`, { id: params.id });
        return device;
      },
    }),
  ];
}
