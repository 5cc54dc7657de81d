/** Management API: alerts (list, show, acknowledge, resolve). Rules: docs/alerts.md. */
import { z } from 'zod';
import { alertEventKinds, alertSeverities, alertStates, alertSubjectKinds } from '../../alerts/alert.ts';
import type { AlertService } from '../../alerts/alert-service.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const alertSchema = z.object({
  id: z.string(),
  key: z.string(),
  rule: z.string(),
  severity: z.enum(alertSeverities),
  state: z.enum(alertStates),
  subject: z.object({ kind: z.enum(alertSubjectKinds), id: z.string() }),
  title: z.string(),
  detail: z.string(),
  details: z.record(z.string(), z.unknown()),
  openedAtMs: z.number(),
  lastRaisedAtMs: z.number(),
  raiseCount: z.number().int(),
  acknowledgedAtMs: z.number().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAtMs: z.number().nullable(),
  resolvedBy: z.string().nullable(),
});

export const alertEventSchema = z.object({
  alertId: z.string(),
  atMs: z.number(),
  kind: z.enum(alertEventKinds),
  actor: z.string(),
  note: z.string().nullable(),
});

const idParams = z.strictObject({ id: z.string().min(1).max(128) });
const noteBody = z.strictObject({ note: z.string().max(1000).optional() }).prefault({});

export function alertRoutes(deps: { service: AlertService }): ApiRoute[] {
  const { service } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/alerts',
      operationId: 'listAlerts',
      summary: 'Alerts, newest first; filter by state (or `unresolved`), severity, rule, subject',
      tag: 'alerts',
      permission: 'alerts:read',
      query: z.strictObject({
        state: z.enum([...alertStates, 'unresolved']).optional(),
        severity: z.enum(alertSeverities).optional(),
        rule: z.string().max(128).optional(),
        subjectKind: z.enum(alertSubjectKinds).optional(),
        subjectId: z.string().max(256).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        cursor: z.string().max(512).optional(),
      }),
      response: z.object({ items: z.array(alertSchema), nextCursor: z.string().optional() }),
      errors: [400],
      handler: ({ query }) =>
        service.list(
          {
            ...(query.state ? { state: query.state } : {}),
            ...(query.severity ? { severity: query.severity } : {}),
            ...(query.rule ? { rule: query.rule } : {}),
            ...(query.subjectKind && query.subjectId
              ? { subject: { kind: query.subjectKind, id: query.subjectId } }
              : {}),
          },
          { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) },
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/alerts/{id}',
      operationId: 'getAlert',
      summary: 'An alert and its history',
      tag: 'alerts',
      permission: 'alerts:read',
      params: idParams,
      response: z.object({ alert: alertSchema, history: z.array(alertEventSchema) }),
      errors: [404],
      handler: ({ params }) => service.show(params.id),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/alerts/{id}/acknowledge',
      operationId: 'acknowledgeAlert',
      summary: 'Acknowledge an open alert (stops its escalation); 409 when acknowledged or resolved',
      tag: 'alerts',
      permission: 'alerts:write',
      params: idParams,
      body: noteBody,
      response: alertSchema,
      errors: [404, 409],
      handler: ({ params, body, principal }) => service.acknowledge(params.id, principal.actor, body.note),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/alerts/{id}/resolve',
      operationId: 'resolveAlert',
      summary: 'Resolve an alert; 409 when already resolved',
      tag: 'alerts',
      permission: 'alerts:write',
      params: idParams,
      body: noteBody,
      response: alertSchema,
      errors: [404, 409],
      handler: ({ params, body, principal }) => service.resolve(params.id, principal.actor, body.note),
    }),
  ];
}
