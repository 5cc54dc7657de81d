/** Audit log routes of the management API: filtered, paged listing and streamed export. */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { exportAudit } from '../../audit/audit-export.ts';
import { maxAuditLimit } from '../../store/audit-query.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import { defineRoute, type ApiRoute } from '../route.ts';
import { timeParam } from './telemetry.ts';

const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  source: z.string(),
  details: z.record(z.string(), z.unknown()),
});

export const auditPageSchema = z.object({
  items: z.array(auditEntrySchema),
  nextCursor: z.string().optional().describe('Present when more entries follow: pass it as `cursor`'),
});

const text = z.string().min(1).max(256);

const auditFilterFields = {
  target: text.optional().describe('The object: a device id, batch id, serial, rollout id, …'),
  action: text.optional().describe('Exactly this action, e.g. device.revoked'),
  actionPrefix: text.optional().describe('Actions starting with this text, e.g. `alert.`'),
  actor: text.optional().describe('Who: api, cli, device:<id>, …'),
  source: text.optional().describe('From where: a remote address, or local'),
  from: timeParam.optional().describe('Entries at or after this time (ms since the epoch or ISO 8601)'),
  to: timeParam.optional().describe('Entries before this time (exclusive)'),
};

function orderedRange(q: { from?: number | undefined; to?: number | undefined }, ctx: z.RefinementCtx): void {
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
  }
}

export const auditListQuery = z
  .strictObject({
    ...auditFilterFields,
    cursor: z.string().min(1).max(200).optional().describe('`nextCursor` of the previous page'),
    limit: z.coerce.number().int().min(1).max(maxAuditLimit).default(100),
  })
  .superRefine(orderedRange);

export const auditExportQuery = z
  .strictObject({
    ...auditFilterFields,
    format: z.enum(['jsonl', 'csv']).default('jsonl').describe('JSON lines or CSV'),
  })
  .superRefine(orderedRange);

const mediaTypes = { jsonl: 'application/x-ndjson', csv: 'text/csv' } as const;

export function auditRoutes(store: ProvisioningStore): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/audit',
      operationId: 'listAudit',
      summary: 'Audit log, newest first, filtered and paged',
      tag: 'audit',
      permission: 'audit:read',
      query: auditListQuery,
      response: auditPageSchema,
      errors: [400],
      handler: ({ query }) => {
        const { from, to, ...rest } = query;
        return store.pageAudit({ ...rest, fromMs: from, toMs: to });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/audit/export',
      operationId: 'exportAudit',
      summary:
        'Audit log export, oldest first, streamed as JSON lines or CSV (header at,actor,action,target,source,details)',
      tag: 'audit',
      permission: 'audit:read',
      query: auditExportQuery,
      response: z.string(),
      produces: [mediaTypes.jsonl, mediaTypes.csv],
      errors: [400],
      handler: async ({ query }) => {
        const { from, to, format, ...rest } = query;
        const lines = await exportAudit(
          (f) => store.pageAudit(f),
          { ...rest, fromMs: from, toMs: to },
          format,
        );
        return {
          contentType: format === 'csv' ? `${mediaTypes.csv}; charset=utf-8` : mediaTypes.jsonl,
          body: Readable.from(lines),
          filename: `flotilla-audit.${format}`,
        };
      },
    }),
  ];
}
