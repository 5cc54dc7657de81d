/** Management API: the catalog of archived telemetry (the cold tier). See docs/telemetry.md, "Retention & archive". */
import { z } from 'zod';
import type { TelemetryRetentionStore } from '../../store/telemetry-retention-types.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const archiveEntrySchema = z.object({
  table: z.enum(['windows', 'events']),
  kind: z.enum(['health', 'app']).nullable().describe('Window kind; null for events'),
  dayStartMs: z.number().int().describe('Start of the UTC day'),
  path: z.string().describe('Relative to <dataDir>/archive/telemetry'),
  rows: z.number().int(),
  bytes: z.number().int(),
  sha256: z.string(),
  createdAtMs: z.number().int(),
});

export function telemetryArchiveRoutes(deps: {
  catalog: Pick<TelemetryRetentionStore, 'listArchives'>;
}): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/telemetry/archives',
      operationId: 'telemetryArchives',
      summary: 'Archived telemetry days (Parquet files of the cold tier), oldest first',
      tag: 'telemetry',
      permission: 'telemetry:read',
      query: z.strictObject({
        table: z.enum(['windows', 'events']).optional().describe('Only this table'),
        kind: z.enum(['health', 'app']).optional().describe('Only windows of this kind'),
      }),
      response: z.object({ items: z.array(archiveEntrySchema) }),
      errors: [400],
      handler: async ({ query }) => ({
        items: await deps.catalog.listArchives({
          ...(query.table && { table: query.table }),
          ...(query.kind && { kind: query.kind }),
        }),
      }),
    }),
  ];
}
