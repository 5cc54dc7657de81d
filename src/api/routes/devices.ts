/** Device registry routes of the management API. */
import { z } from 'zod';
import { connectionStateSchema, deviceSchema } from '../../contracts/device.ts';
import { NotFoundError } from '../../infra/errors.ts';
import type { DeviceStore } from '../../store/types.ts';
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

export const listDevicesQuery = z.strictObject({
  model: z.string().min(1).optional().describe('Hardware model, exact'),
  firmware: z.string().min(1).optional().describe('Firmware version, exact'),
  state: connectionStateSchema.optional().describe('Connection state'),
  tag: tagFilter.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Page size, 1-1000'),
  cursor: z.string().min(1).optional().describe('nextCursor of the previous page'),
});

export const devicePageSchema = z.object({
  items: z.array(deviceSchema),
  nextCursor: z.string().optional(),
});

export function deviceRoutes(deps: { store: DeviceStore }): ApiRoute[] {
  const { store } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices',
      operationId: 'listDevices',
      summary: 'List devices, filtered, in pages ordered by id',
      tag: 'devices',
      query: listDevicesQuery,
      response: devicePageSchema,
      errors: [400],
      handler: ({ query }) =>
        store.listDevices(
          {
            hardwareModel: query.model,
            firmwareVersion: query.firmware,
            connectionState: query.state,
            tags: query.tag,
          },
          { cursor: query.cursor, limit: query.limit },
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/{id}',
      operationId: 'getDevice',
      summary: 'One device',
      tag: 'devices',
      params: z.strictObject({ id: z.string().min(1).max(128) }),
      response: deviceSchema,
      errors: [404],
      handler: async ({ params }) => {
        const device = await store.getDevice(params.id);
        if (!device) throw new NotFoundError(`device ${params.id} not found`, { id: params.id });
        return device;
      },
    }),
  ];
}
