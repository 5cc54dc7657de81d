/**
 * Which devices a rollout targets: a structured filter whose fields are AND-combined (within a
 * list field: any of the values). Pure; the store turns the same schema into a query later, and
 * the fleet query language (a later issue) will become another way to write it.
 */
import { z } from 'zod';
import type { Device } from '../../contracts/device.ts';

/** A non-empty list: an empty one would match nothing, so the field is omitted instead. */
function someOf(what: string) {
  return z
    .array(z.string().min(1).max(128))
    .min(1, `${what}: omit the field to match any, an empty list matches nothing`)
    .max(10_000);
}

export const deviceSelectorSchema = z.strictObject({
  /** Hardware models (any of). */
  models: someOf('models').optional(),
  /** Hardware revisions (any of); a device without a revision never matches. */
  revisions: someOf('revisions').optional(),
  /** Reported firmware versions (any of), e.g. to update only the devices on 2.3.x builds. */
  firmwareVersions: someOf('firmwareVersions').optional(),
  /** Tags the device must carry, each with exactly this value (all of). */
  tags: z.record(z.string().min(1).max(63), z.string().max(256)).optional(),
  regions: someOf('regions').optional(),
  owner: z.string().min(1).max(128).optional(),
  /** Explicit device ids (any of). */
  deviceIds: someOf('deviceIds').optional(),
});
/** An empty selector (`{}`) matches every device; the release's model restricts it further. */
export type DeviceSelector = z.infer<typeof deviceSelectorSchema>;

/** The device fields a selector looks at. */
export type SelectableDevice = Pick<
  Device,
  'id' | 'hardwareModel' | 'hardwareRevision' | 'firmwareVersion' | 'tags' | 'region' | 'owner'
>;

function anyOf(values: readonly string[] | undefined, actual: string | null): boolean {
  return values === undefined || (actual !== null && values.includes(actual));
}

/** True when the device satisfies every field the selector sets. */
export function matchesSelector(selector: DeviceSelector, device: SelectableDevice): boolean {
  const tagsMatch = Object.entries(selector.tags ?? {}).every(([key, value]) => device.tags[key] === value);
  return (
    tagsMatch &&
    anyOf(selector.models, device.hardwareModel) &&
    anyOf(selector.revisions, device.hardwareRevision) &&
    anyOf(selector.firmwareVersions, device.firmwareVersion) &&
    anyOf(selector.regions, device.region) &&
    (selector.owner === undefined || selector.owner === device.owner) &&
    anyOf(selector.deviceIds, device.id)
  );
}
