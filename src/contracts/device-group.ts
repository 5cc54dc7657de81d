/** Dynamic device groups: a name for a saved fleet query (docs/fleet-query.md). */
import { z } from 'zod';

export const groupNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'group names are lower-case [a-z0-9_.-], 1-63 chars');

export const deviceGroupSchema = z.object({
  name: groupNameSchema,
  /** The fleet query; membership is evaluated whenever the group is used. */
  query: z.string(),
  createdAt: z.iso.datetime(),
});
export type DeviceGroup = z.infer<typeof deviceGroupSchema>;

export const newGroupSchema = z.strictObject({
  name: groupNameSchema,
  query: z.string().min(1).max(4096),
});
export type NewGroup = z.infer<typeof newGroupSchema>;
