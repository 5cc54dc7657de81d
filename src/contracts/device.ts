/** The device record as the management API returns it. */
import { z } from 'zod';
import { tagsSchema } from './device-messages.ts';

export const connectionStates = ['online', 'offline'] as const;
export const connectionStateSchema = z.enum(connectionStates);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const deviceSchema = z.object({
  id: z.string(),
  serial: z.string(),
  hardwareModel: z.string().nullable(),
  hardwareRevision: z.string().nullable(),
  firmwareVersion: z.string().nullable(),
  tags: tagsSchema,
  region: z.string().nullable(),
  owner: z.string().nullable(),
  createdAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime().nullable(),
  connectionState: connectionStateSchema,
  connectionChangedAt: z.iso.datetime().nullable(),
});
export type Device = z.infer<typeof deviceSchema>;

export const fleetSummarySchema = z.object({
  total: z.number().int(),
  online: z.number().int(),
});
export type FleetSummary = z.infer<typeof fleetSummarySchema>;
