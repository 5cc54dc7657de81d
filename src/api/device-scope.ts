/**
 * Narrowing device-targeting handlers to the principal's device scope (access/principal.ts). A
 * single device outside the scope answers 404 like a missing one, so nothing about it leaks.
 */
import { scopedWhere, type Principal } from '../access/principal.ts';
import type { Permission } from '../access/permissions.ts';
import type { GroupService } from '../groups/group-service.ts';
import type { Clock } from '../infra/clock.ts';
import { NotFoundError } from '../infra/errors.ts';
import type { DeviceStore } from '../store/types.ts';

/** Fleet queries are capped at 4096 bytes; id lists are split to stay well below. */
const MAX_ID_LIST_CHARS = 3000;

export interface DeviceScopeDeps {
  devices: Pick<DeviceStore, 'countDevices' | 'listDevices'>;
  groups: Pick<GroupService, 'deviceQuery'>;
  clock: Clock;
}

function idChunks(ids: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const id of ids) {
    const quoted = JSON.stringify(id).length + 2;
    if (current.length > 0 && length + quoted > MAX_ID_LIST_CHARS) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    current.push(id);
    length += quoted;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function createDeviceScope(deps: DeviceScopeDeps) {
  const { devices, groups, clock } = deps;

  async function matching(where: string | undefined): Promise<string[]> {
    const query = await groups.deviceQuery(where, undefined);
    const filter = query === undefined ? {} : { where: { query, nowMs: clock.now() } };
    const found: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await devices.listDevices(filter, { limit: 1000, ...(cursor ? { cursor } : {}) });
      found.push(...page.items.map((device) => device.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return found;
  }

  return {
    /** The caller's fleet query narrowed to the scope (`undefined`: no restriction). */
    where(principal: Principal, permission: Permission, where: string | undefined): string | undefined {
      return scopedWhere(principal.deviceScope(permission), where);
    },

    /** Whether the scope is narrower than the whole fleet. */
    isScoped(principal: Principal, permission: Permission): boolean {
      return principal.deviceScope(permission).kind !== 'all';
    },

    /** NotFoundError (as for a missing device) when device `id` is outside the scope. */
    async requireDevice(principal: Principal, permission: Permission, id: string): Promise<void> {
      const scope = principal.deviceScope(permission);
      if (scope.kind === 'all') return;
      const query = await groups.deviceQuery(scopedWhere(scope, `id = ${JSON.stringify(id)}`), undefined);
      const inside =
        query !== undefined && (await devices.countDevices({ where: { query, nowMs: clock.now() } })) > 0;
      if (!inside) throw new NotFoundError(`device ${id} not found`, { id });
    },

    /** The ids (in their order) inside the scope. */
    async filterDevices(
      principal: Principal,
      permission: Permission,
      ids: readonly string[],
    ): Promise<string[]> {
      const scope = principal.deviceScope(permission);
      if (scope.kind === 'all') return [...ids];
      const inside = new Set<string>();
      for (const chunk of idChunks(ids)) {
        const list = chunk.map((id) => JSON.stringify(id)).join(', ');
        for (const id of await matching(scopedWhere(scope, `id in (${list})`))) inside.add(id);
      }
      return ids.filter((id) => inside.has(id));
    },

    /** Every device id the scope reaches, narrowed further by `where`. */
    devicesIn(principal: Principal, permission: Permission, where: string | undefined): Promise<string[]> {
      return matching(scopedWhere(principal.deviceScope(permission), where));
    },
  };
}

export type DeviceScope = ReturnType<typeof createDeviceScope>;
