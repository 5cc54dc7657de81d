/**
 * Group operations: act on every device a fleet query (or saved group) selects — set or remove
 * operator tags, or move the devices to a static group — with a dry run that says how many
 * devices and which before anything changes. Starting a rollout on a query is the rollout's own
 * `selector.where` (with its dry run, rollout-service.ts). Every executed operation is audited.
 *
 * Static groups are saved queries of the form `tag.group = "<name>"`: moving a device sets its
 * operator tag `group`, so a device is in one static group at a time and membership survives
 * whatever the device reports.
 */
import { z } from 'zod';
import { groupNameSchema } from '../contracts/device-group.ts';
import { tagsSchema } from '../contracts/device-messages.ts';
import { queryLimits } from '../fleet-query/index.ts';
import type { Clock } from '../infra/clock.ts';
import { ConflictError, ValidationError } from '../infra/errors.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import type { DeviceFilter, DeviceStore, OperatorTagChange } from '../store/types.ts';
import type { GroupService } from './group-service.ts';

/** The operator tag that places a device in a static group. */
export const STATIC_GROUP_TAG = 'group';

/** The saved query of a static group. */
export const staticGroupQuery = (name: string): string => `tag.${STATIC_GROUP_TAG} = ${JSON.stringify(name)}`;

const tagKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'tag keys are lower-case [a-z0-9_.-], 1-63 chars');

export const groupActionSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('tag'),
      /** Operator tags to set (they win over a reported tag with the same key). */
      set: tagsSchema.default({}),
      /** Operator tags to remove (a reported tag with the key shows again). */
      remove: z.array(tagKeySchema).max(32).default([]),
    })
    .superRefine((action, ctx) => {
      if (Object.keys(action.set).length === 0 && action.remove.length === 0)
        ctx.addIssue({ code: 'custom', message: 'set or remove at least one tag', path: ['set'] });
      for (const key of action.remove)
        if (key in action.set)
          ctx.addIssue({ code: 'custom', message: `tag ${key} is both set and removed`, path: ['remove'] });
    }),
  z.strictObject({
    type: z.literal('move-to-group'),
    /** A static group; created when it does not exist. */
    group: groupNameSchema,
  }),
]);
export type GroupAction = z.infer<typeof groupActionSchema>;

export const groupOperationSchema = z
  .strictObject({
    /** The devices: a fleet query, a saved group, or both (AND); or `all: true` for every device. */
    where: z.string().min(1).max(queryLimits.maxBytes).optional(),
    group: groupNameSchema.optional(),
    all: z.boolean().default(false),
    action: groupActionSchema,
    /** Count and list the devices, change nothing. */
    dryRun: z.boolean().default(false),
  })
  .refine((op) => (op.where !== undefined || op.group !== undefined) !== op.all, {
    message: 'choose the devices with where and/or group, or all: true for every device (not both)',
    path: ['where'],
  });
export type GroupOperation = z.infer<typeof groupOperationSchema>;

export const groupOperationResultSchema = z.object({
  dryRun: z.boolean(),
  /** Devices the query matched (when it ran). */
  matched: z.number().int(),
  /** The first matched devices by id, at most SAMPLE_SIZE. */
  sample: z.array(z.string()),
  /** Devices whose tags changed (0 in a dry run). */
  changed: z.number().int(),
  /** For move-to-group: the static group, and whether it was created now (in a dry run: would be). */
  group: z.object({ name: z.string(), created: z.boolean() }).optional(),
});
export type GroupOperationResult = z.infer<typeof groupOperationResultSchema>;

export const SAMPLE_SIZE = 20;
const PAGE_SIZE = 1000;

export interface GroupOperationDeps {
  devices: Pick<DeviceStore, 'listDevices' | 'countDevices' | 'updateOperatorTags'>;
  groups: Pick<GroupService, 'deviceQuery' | 'create' | 'find'>;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
}

function tagChange(action: GroupAction): OperatorTagChange {
  return action.type === 'tag'
    ? { set: action.set, remove: action.remove }
    : { set: { [STATIC_GROUP_TAG]: action.group }, remove: [] };
}

export function createGroupOperations(deps: GroupOperationDeps) {
  const { devices, groups, clock } = deps;

  /** The static group to move to: created if missing; ConflictError for a dynamic group of that name. */
  async function staticGroup(name: string, dryRun: boolean): Promise<{ name: string; created: boolean }> {
    const existing = await groups.find(name);
    if (existing === undefined) {
      if (!dryRun) await groups.create({ name, query: staticGroupQuery(name) });
      return { name, created: true };
    }
    if (existing.query.trim() !== staticGroupQuery(name))
      throw new ConflictError(
        `group ${name} is a dynamic group (${existing.query}): devices join it by matching its query, not by moving`,
        { group: name, query: existing.query },
      );
    return { name, created: false };
  }

  /** Runs the operation on the devices the filter matches now, page by page (ids in order). */
  async function apply(filter: DeviceFilter, change: OperatorTagChange, nowMs: number) {
    let matched = 0;
    let changed = 0;
    const sample: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await devices.listDevices(filter, { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      const ids = page.items.map((device) => device.id);
      matched += ids.length;
      for (const id of ids.slice(0, SAMPLE_SIZE - sample.length)) sample.push(id);
      changed += await devices.updateOperatorTags(ids, change, nowMs);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return { matched, changed, sample };
  }

  return {
    /**
     * Dry run or execution. ValidationError: bad operation or query (with the position);
     * ConflictError: moving to a dynamic group.
     */
    async run(input: unknown, actor: string): Promise<GroupOperationResult> {
      const parsed = groupOperationSchema.safeParse(input);
      if (!parsed.success)
        throw new ValidationError('invalid group operation', {
          issues: parsed.error.issues.map((issue) => ({
            path: issue.path.join('.'),
            message: issue.message,
          })),
        });
      const op = parsed.data;
      const query = await groups.deviceQuery(op.where, op.group);
      const nowMs = clock.now();
      const filter: DeviceFilter = query === undefined ? {} : { where: { query, nowMs } };
      const group =
        op.action.type === 'move-to-group' ? await staticGroup(op.action.group, op.dryRun) : undefined;
      if (op.dryRun) {
        const [matched, page] = await Promise.all([
          devices.countDevices(filter),
          devices.listDevices(filter, { limit: SAMPLE_SIZE }),
        ]);
        return {
          dryRun: true,
          matched,
          sample: page.items.map((device) => device.id),
          changed: 0,
          ...(group ? { group } : {}),
        };
      }
      const change = tagChange(op.action);
      const result = await apply(filter, change, nowMs);
      await deps.audit.appendAudit({
        atMs: nowMs,
        actor,
        action: op.action.type === 'tag' ? 'devices.tagged' : 'devices.moved',
        target: query?.text ?? '*',
        source: 'group-operations',
        details: { ...change, matched: result.matched, changed: result.changed, ...(group ? { group } : {}) },
      });
      return { dryRun: false, ...result, ...(group ? { group } : {}) };
    },
  };
}

export type GroupOperations = ReturnType<typeof createGroupOperations>;
