/** Management API: an alert's escalation and notification state (the ledger rows). docs/alerts.md. */
import { z } from 'zod';
import type { AlertService } from '../../alerts/alert-service.ts';
import type { EscalationEngine } from '../../alerts/escalation/escalation-engine.ts';
import { notificationKinds, notificationStates } from '../../alerts/escalation/notification.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const notificationSchema = z.object({
  step: z.string(),
  channel: z.string(),
  kind: z.enum(notificationKinds),
  state: z.enum(notificationStates),
  dueAtMs: z.number(),
  attempts: z.number().int(),
  nextAttemptAtMs: z.number().nullable(),
  lastError: z.string().nullable(),
  sentAtMs: z.number().nullable(),
  digestId: z.string().nullable(),
});

export function alertNotificationRoutes(deps: {
  service: Pick<AlertService, 'show'>;
  escalation: Pick<EscalationEngine, 'notificationsFor'>;
}): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/alerts/{id}/notifications',
      operationId: 'listAlertNotifications',
      summary: 'The notifications of an alert: escalation steps, channels, state, attempts, last error',
      tag: 'alerts',
      permission: 'alerts:read',
      params: z.strictObject({ id: z.string().min(1).max(128) }),
      response: z.object({ items: z.array(notificationSchema) }),
      errors: [404],
      async handler({ params }) {
        await deps.service.show(params.id);
        const records = await deps.escalation.notificationsFor(params.id);
        return {
          items: records.map((r) => ({
            step: r.step,
            channel: r.channel,
            kind: r.kind,
            state: r.state,
            dueAtMs: r.dueAtMs,
            attempts: r.attempts,
            nextAttemptAtMs: r.state === 'pending' ? r.nextAttemptAtMs : null,
            lastError: r.lastError,
            sentAtMs: r.sentAtMs,
            digestId: r.digestId,
          })),
        };
      },
    }),
  ];
}
