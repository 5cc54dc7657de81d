/**
 * The devices a configuration change reaches, always narrowed to the caller's device scope
 * (access/principal.ts): one device by id, the members of a group, or a fleet query, page by page.
 */
import { scopedWhere, type DeviceScope } from '../access/principal.ts';
import type { FleetQuery } from '../fleet-query/index.ts';
import type { Clock } from '../infra/clock.ts';
import { ValidationError } from '../infra/errors.ts';
import type { DeviceFilter, DeviceStore } from '../store/types.ts';

export interface SelectionDeps {
  devices: Pick<DeviceStore, 'listDevices' | 'countDevices'>;
  groups: { parse(text: string): Promise<FleetQuery> };
  clock: Clock;
}

const PAGE_SIZE = 500;

/** `id = "<id>"` as a fleet query (device ids never need escaping beyond JSON's). */
export const idQuery = (deviceId: string): string => `id = ${JSON.stringify(deviceId)}`;
export const groupQuery = (name: string): string => `group = ${JSON.stringify(name)}`;

export function createDeviceSelection(deps: SelectionDeps) {
  async function filterOf(where: string | undefined): Promise<DeviceFilter> {
    return where === undefined
      ? {}
      : { where: { query: await deps.groups.parse(where), nowMs: deps.clock.now() } };
  }

  return {
    filterOf,
    /** Whether the device exists and `scope` reaches it. */
    async inScope(scope: DeviceScope, deviceId: string): Promise<boolean> {
      const filter = await filterOf(scopedWhere(scope, idQuery(deviceId)));
      return (await deps.devices.countDevices(filter)) > 0;
    },
    /** Whether the device matches the query; false when the query no longer parses (a deleted group). */
    async matches(deviceId: string, where: string): Promise<boolean> {
      try {
        const filter = await filterOf(`(${idQuery(deviceId)}) and (${where})`);
        return (await deps.devices.countDevices(filter)) > 0;
      } catch (error) {
        if (error instanceof ValidationError) return false;
        throw error;
      }
    },
    count: async (where: string | undefined) => deps.devices.countDevices(await filterOf(where)),
    /** The ids `where` matches (every device when undefined), in id order, a page at a time. */
    async *pages(where: string | undefined): AsyncGenerator<string[]> {
      const filter = await filterOf(where);
      let cursor: string | undefined;
      do {
        const page = await deps.devices.listDevices(filter, {
          limit: PAGE_SIZE,
          ...(cursor ? { cursor } : {}),
        });
        yield page.items.map((device) => device.id);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    },
  };
}

export type DeviceSelection = ReturnType<typeof createDeviceSelection>;
