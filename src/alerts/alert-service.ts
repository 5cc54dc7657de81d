/**
 * Alerts as a service: raise (opening or updating the alert for its key), acknowledge, resolve,
 * list and show. Every change is audited with its actor; the count of unresolved alerts per
 * severity is kept current for /metrics. Escalation and notification channels build on the
 * `opened` and `severity-changed` outcomes (docs/alerts.md).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../infra/clock.ts';
import { NotFoundError } from '../infra/errors.ts';
import type { AlertStore, RaiseOutcome } from '../store/alert-types.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import type { Page, PageRequest } from '../store/types.ts';
import {
  alertKey,
  alertRaiseSchema,
  SYSTEM_ACTOR,
  type Alert,
  type AlertEvent,
  type AlertFilter,
  type AlertRaiseInput,
  type AlertSubject,
} from './alert.ts';

export interface AlertServiceDeps {
  store: AlertStore;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
}

const AUDIT_SOURCE = 'alerts';

/**
 * Ids sort by opening time (newest-first listing), with a random tail. 64 random bits: an alert
 * rule may open tens of thousands of alerts at one clock reading, where 32 bits would collide.
 */
function newAlertId(atMs: number): string {
  return `al-${atMs.toString(36).padStart(9, '0')}-${randomBytes(8).toString('hex')}`;
}

export function createAlertService(deps: AlertServiceDeps) {
  const { store, clock, logger } = deps;

  async function audit(action: string, alert: Alert, actor: string, note: string | null): Promise<void> {
    await deps.audit.appendAudit({
      atMs: clock.now(),
      actor,
      action: `alert.${action}`,
      target: alert.id,
      source: AUDIT_SOURCE,
      details: {
        rule: alert.rule,
        severity: alert.severity,
        subject: alert.subject,
        ...(note ? { note } : {}),
      },
    });
  }

  return {
    /** Opens the alert or updates the unresolved one for the same rule and subject. */
    async raise(input: AlertRaiseInput): Promise<RaiseOutcome> {
      const raise = alertRaiseSchema.parse(input);
      const nowMs = clock.now();
      const outcome = await store.raise(raise, newAlertId(nowMs), nowMs);
      if (outcome.opened) {
        await audit('opened', outcome.alert, SYSTEM_ACTOR, null);
        logger.warn(
          { alertId: outcome.alert.id, rule: raise.rule, severity: raise.severity, subject: raise.subject },
          `alert: ${raise.title}`,
        );
      } else if (outcome.previousSeverity !== undefined) {
        await audit(
          'severity-changed',
          outcome.alert,
          SYSTEM_ACTOR,
          `${outcome.previousSeverity} → ${raise.severity}`,
        );
      }
      return outcome;
    },

    /** Resolves the unresolved alert of this rule and subject, if any (the condition cleared). */
    async clear(rule: string, subject: AlertSubject, note: string): Promise<Alert | undefined> {
      const resolved = await store.resolveKey(alertKey({ rule, subject }), SYSTEM_ACTOR, clock.now(), note);
      if (resolved) await audit('resolved', resolved, SYSTEM_ACTOR, note);
      return resolved;
    },

    async acknowledge(id: string, actor: string, note?: string): Promise<Alert> {
      const alert = await store.acknowledge(id, actor, clock.now(), note ?? null);
      await audit('acknowledged', alert, actor, note ?? null);
      return alert;
    },

    async resolve(id: string, actor: string, note?: string): Promise<Alert> {
      const alert = await store.resolve(id, actor, clock.now(), note ?? null);
      await audit('resolved', alert, actor, note ?? null);
      return alert;
    },

    list: (filter: AlertFilter, page: PageRequest): Promise<Page<Alert>> => store.listAlerts(filter, page),

    /** The alert and its history. NotFoundError. */
    async show(id: string): Promise<{ alert: Alert; history: AlertEvent[] }> {
      const alert = await store.getAlert(id);
      if (!alert) throw new NotFoundError(`alert ${id} not found`, { id });
      return { alert, history: await store.listEvents(id) };
    },

    countUnresolved: () => store.countUnresolved(),
  };
}

export type AlertService = ReturnType<typeof createAlertService>;
