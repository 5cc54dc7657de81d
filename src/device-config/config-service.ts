/**
 * Operator operations on device configuration: read one device's documents, edit its own
 * document (checked against its schema before anything is sent: 400 naming the key and the
 * rule), edit the fleet and group defaults, and bulk edits over a query. Every change is audited
 * with the caller's actor and narrowed to the caller's device scope.
 */
import type { DeviceScope } from '../access/principal.ts';
import type { ConfigValues } from '../contracts/config-messages.ts';
import type { Clock } from '../infra/clock.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../infra/errors.ts';
import type { ConfigDefaults, DeviceConfigStore } from '../store/device-config-types.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import type {
  BulkConfig,
  BulkResult,
  DefaultsChangeResult,
  DeviceConfigEdit,
  DeviceConfigView,
  DeviceConflict,
  GroupDefaultsEdit,
} from './config-api.ts';
import type { ConfigPublisher } from './config-publisher.ts';
import { scopedWhere } from '../access/principal.ts';
import { groupQuery, type DeviceSelection } from './device-selection.ts';
import { buildView } from './config-view.ts';
import { editValues } from './merge.ts';
import { validateValues } from './validate.ts';

export interface ConfigServiceDeps {
  store: DeviceConfigStore;
  publisher: ConfigPublisher;
  selection: DeviceSelection;
  groups: { find(name: string): Promise<{ name: string } | undefined> };
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
}

/** Who is asking: the audit actor and the devices their permission reaches. */
export interface ConfigCaller {
  actor: string;
  scope: DeviceScope;
}

const SAMPLE_SIZE = 20;
const MAX_CONFLICTS = 100;

export function createConfigService(deps: ConfigServiceDeps) {
  const { store, publisher, selection, clock } = deps;

  async function requireDevice(caller: ConfigCaller, deviceId: string): Promise<void> {
    // Outside the scope answers like an unknown device, so nothing about it leaks.
    if (!(await selection.inScope(caller.scope, deviceId)))
      throw new NotFoundError(`device ${deviceId} not found`, { deviceId });
  }

  async function view(deviceId: string): Promise<DeviceConfigView> {
    const record = await store.getDevice(deviceId);
    return buildView(deviceId, record, await publisher.resolve(deviceId, record));
  }

  /** Scope `all` only: fleet defaults reach every device. */
  function requireWholeFleet(caller: ConfigCaller): void {
    if (caller.scope.kind !== 'all')
      throw new ForbiddenError(
        'fleet config defaults reach every device: your role is scoped to some devices',
        {
          missing: 'config:write on every device',
        },
      );
  }

  /**
   * A group's defaults may be edited only by a caller whose scope reaches every member. Defaults
   * left behind by a deleted group can still be removed, by a caller who reaches every device.
   */
  async function requireWholeGroup(caller: ConfigCaller, name: string, removing = false): Promise<void> {
    if ((await deps.groups.find(name)) === undefined) {
      if (removing) return requireWholeFleet(caller);
      throw new NotFoundError(`group ${name} not found`, { group: name });
    }
    if (caller.scope.kind === 'all') return;
    const members = await selection.count(groupQuery(name));
    const reachable = await selection.count(scopedWhere(caller.scope, groupQuery(name)));
    if (members !== reachable)
      throw new ForbiddenError(`group ${name} has devices outside your scope`, { group: name });
  }

  /** Re-sends every device `where` matches; the conflicts the layer's keys cause on them. */
  async function resyncAll(where: string | undefined, keys: ReadonlySet<string>) {
    let affected = 0;
    const conflicts: DeviceConflict[] = [];
    for await (const ids of selection.pages(where)) {
      affected += ids.length;
      for (const deviceId of ids) {
        await publisher.sync(deviceId);
        if (conflicts.length >= MAX_CONFLICTS) continue;
        const resolved = await publisher.resolve(deviceId, await store.getDevice(deviceId));
        for (const conflict of resolved.conflicts)
          if (keys.has(conflict.key) && conflicts.length < MAX_CONFLICTS)
            conflicts.push({ deviceId, key: conflict.key, reason: conflict.reason });
      }
    }
    return { affected, conflicts };
  }

  async function changeDefaults(
    caller: ConfigCaller,
    target: { scope: 'fleet'; name: '' } | { scope: 'group'; name: string },
    edit: DeviceConfigEdit & { priority?: number },
  ): Promise<DefaultsChangeResult> {
    const existing = await store.getDefaults(target.scope, target.name);
    const values = editValues(existing?.values ?? {}, edit);
    const atMs = clock.now();
    const defaults = await store.putDefaults(
      { ...target, priority: edit.priority ?? existing?.priority ?? 0, values },
      edit.expectedVersion,
      atMs,
    );
    const result = await resyncAll(
      target.scope === 'fleet' ? undefined : groupQuery(target.name),
      new Set([...Object.keys(edit.set), ...Object.keys(existing?.values ?? {})]),
    );
    await deps.audit.appendAudit({
      atMs,
      actor: caller.actor,
      action: 'config.defaults.set',
      target: target.scope === 'fleet' ? 'fleet' : `group:${target.name}`,
      source: 'api',
      details: {
        set: edit.set,
        unset: edit.unset,
        priority: defaults.priority,
        version: defaults.version,
        affected: result.affected,
        conflicts: result.conflicts.length,
      },
    });
    return { defaults, ...result };
  }

  async function deleteDefaults(
    caller: ConfigCaller,
    target: { scope: 'fleet' | 'group'; name: string },
  ): Promise<DefaultsChangeResult> {
    if (!(await store.deleteDefaults(target.scope, target.name)))
      throw new NotFoundError('no such config defaults', { ...target });
    // A deleted group's members are unknown: every device is checked then.
    const members =
      target.scope === 'group' && (await deps.groups.find(target.name)) !== undefined
        ? groupQuery(target.name)
        : undefined;
    const result = await resyncAll(members, new Set());
    await deps.audit.appendAudit({
      atMs: clock.now(),
      actor: caller.actor,
      action: 'config.defaults.deleted',
      target: target.scope === 'fleet' ? 'fleet' : `group:${target.name}`,
      source: 'api',
      details: { affected: result.affected },
    });
    return { defaults: null, ...result };
  }

  /** The keys of `set` a device's schema refuses (none while it has no schema). */
  async function refusals(deviceId: string, set: ConfigValues) {
    const schema = (await store.getDevice(deviceId))?.schema?.schema;
    return schema === undefined ? [] : validateValues(schema, set);
  }

  async function bulk(caller: ConfigCaller, body: BulkConfig): Promise<BulkResult> {
    const ids: string[] = [];
    const notFound: string[] = [];
    if (body.deviceIds) {
      for (const id of new Set(body.deviceIds))
        ((await selection.inScope(caller.scope, id)) ? ids : notFound).push(id);
    } else {
      const own = [body.where, body.group === undefined ? undefined : groupQuery(body.group)]
        .filter((part) => part !== undefined)
        .map((part) => `(${part})`)
        .join(' and ');
      for await (const page of selection.pages(scopedWhere(caller.scope, own))) ids.push(...page);
    }
    ids.sort();
    const conflicts: DeviceConflict[] = [];
    let conflictedDevices = 0;
    let changed = 0;
    const atMs = clock.now();
    for (const deviceId of ids) {
      const refused = await refusals(deviceId, body.set);
      if (refused.length > 0) {
        conflictedDevices += 1;
        for (const r of refused) if (conflicts.length < MAX_CONFLICTS) conflicts.push({ deviceId, ...r });
        continue;
      }
      if (body.dryRun) continue;
      const record = await store.getDevice(deviceId);
      await store.putDesired(deviceId, editValues(record?.desired.values ?? {}, body), undefined, atMs);
      await publisher.sync(deviceId);
      changed += 1;
    }
    if (!body.dryRun)
      await deps.audit.appendAudit({
        atMs,
        actor: caller.actor,
        action: 'config.bulk',
        target: body.deviceIds
          ? body.deviceIds.slice(0, SAMPLE_SIZE).join(',')
          : (body.where ?? `group:${body.group}`),
        source: 'api',
        details: { set: body.set, unset: body.unset, matched: ids.length, changed, conflictedDevices },
      });
    return {
      dryRun: body.dryRun,
      matched: ids.length,
      sample: ids.slice(0, SAMPLE_SIZE),
      changed,
      conflicts,
      conflictedDevices,
      notFound,
    };
  }

  return {
    async get(caller: ConfigCaller, deviceId: string): Promise<DeviceConfigView> {
      await requireDevice(caller, deviceId);
      return view(deviceId);
    },

    /** ValidationError (400) naming the key and rule the device's schema breaks; ConflictError on expectedVersion. */
    async setDevice(
      caller: ConfigCaller,
      deviceId: string,
      edit: DeviceConfigEdit,
    ): Promise<DeviceConfigView> {
      await requireDevice(caller, deviceId);
      const refused = await refusals(deviceId, edit.set);
      const first = refused[0];
      if (first !== undefined)
        throw new ValidationError(`config key ${first.key} ${first.reason}`, {
          deviceId,
          key: first.key,
          rule: first.reason,
          refused,
        });
      const record = await store.getDevice(deviceId);
      const atMs = clock.now();
      const version = await store.putDesired(
        deviceId,
        editValues(record?.desired.values ?? {}, edit),
        edit.expectedVersion,
        atMs,
      );
      await publisher.sync(deviceId);
      await deps.audit.appendAudit({
        atMs,
        actor: caller.actor,
        action: 'config.desired.set',
        target: deviceId,
        source: 'api',
        details: { set: edit.set, unset: edit.unset, version },
      });
      return view(deviceId);
    },

    async getFleetDefaults(): Promise<ConfigDefaults | null> {
      return (await store.getDefaults('fleet', '')) ?? null;
    },
    async setFleetDefaults(caller: ConfigCaller, edit: DeviceConfigEdit): Promise<DefaultsChangeResult> {
      requireWholeFleet(caller);
      return changeDefaults(caller, { scope: 'fleet', name: '' }, edit);
    },
    async deleteFleetDefaults(caller: ConfigCaller): Promise<DefaultsChangeResult> {
      requireWholeFleet(caller);
      return deleteDefaults(caller, { scope: 'fleet', name: '' });
    },
    async getGroupDefaults(name: string): Promise<ConfigDefaults> {
      const doc = await store.getDefaults('group', name);
      if (!doc) throw new NotFoundError(`group ${name} has no config defaults`, { group: name });
      return doc;
    },
    async setGroupDefaults(
      caller: ConfigCaller,
      name: string,
      edit: GroupDefaultsEdit,
    ): Promise<DefaultsChangeResult> {
      await requireWholeGroup(caller, name);
      return changeDefaults(caller, { scope: 'group', name }, edit);
    },
    async deleteGroupDefaults(caller: ConfigCaller, name: string): Promise<DefaultsChangeResult> {
      await requireWholeGroup(caller, name, true);
      return deleteDefaults(caller, { scope: 'group', name });
    },
    listDefaults: () => store.listDefaults(),
    bulk,
  };
}

export type ConfigService = ReturnType<typeof createConfigService>;
