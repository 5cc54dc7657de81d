/**
 * Alerts: the one record an operator acts on when something needs attention (a rollout paused
 * by a gate, a device with a low battery, a fleet dropping offline). Pure: schemas and the
 * lifecycle rules; the store persists them, the service raises and audits them.
 *
 * Lifecycle: open → acknowledged → resolved, or open → resolved. Raising an alert whose key
 * (the de-duplication key: rule + subject) already has an unresolved alert updates that one
 * (count, last raised, detail, severity) instead of opening another: one alert per problem.
 */
import { z } from 'zod';
import { ConflictError } from '../infra/errors.ts';

export const alertSeverities = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];

export const alertStates = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof alertStates)[number];

export const alertSubjectKinds = ['device', 'rollout', 'group', 'fleet'] as const;

export const alertSubjectSchema = z.strictObject({
  kind: z.enum(alertSubjectKinds),
  /** A device id, rollout id, group name or `fleet`. */
  id: z.string().min(1).max(256),
});
export type AlertSubject = z.infer<typeof alertSubjectSchema>;

/** What a rule (or the rollout orchestrator) raises. */
export const alertRaiseSchema = z.strictObject({
  /** The rule that raised it, e.g. `rollout.gate-failed`, `battery-low`. */
  rule: z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,127}$/, 'rule names are lower-case [a-z0-9_.:-]'),
  severity: z.enum(alertSeverities),
  subject: alertSubjectSchema,
  title: z.string().min(1).max(200),
  detail: z.string().max(4000).default(''),
  /** Structured values behind the detail (gate value, threshold, metric, ...). */
  details: z.record(z.string(), z.unknown()).default({}),
});
export type AlertRaise = z.infer<typeof alertRaiseSchema>;
export type AlertRaiseInput = z.input<typeof alertRaiseSchema>;

/** One alert per rule and subject at a time. */
export const alertKey = (raise: Pick<AlertRaise, 'rule' | 'subject'>): string =>
  `${raise.rule}|${raise.subject.kind}:${raise.subject.id}`;

export interface Alert {
  id: string;
  key: string;
  rule: string;
  severity: AlertSeverity;
  state: AlertState;
  subject: AlertSubject;
  title: string;
  detail: string;
  details: Record<string, unknown>;
  openedAtMs: number;
  /** The last time the condition was raised (the first raise included). */
  lastRaisedAtMs: number;
  /** Times raised while unresolved (1 = only the first). */
  raiseCount: number;
  acknowledgedAtMs: number | null;
  acknowledgedBy: string | null;
  resolvedAtMs: number | null;
  resolvedBy: string | null;
}

export const alertEventKinds = ['opened', 'raised', 'severity-changed', 'acknowledged', 'resolved'] as const;
export type AlertEventKind = (typeof alertEventKinds)[number];

export interface AlertEvent {
  alertId: string;
  atMs: number;
  kind: AlertEventKind;
  actor: string;
  note: string | null;
}

/** The actor of what the system does on its own (raising, auto-resolving). */
export const SYSTEM_ACTOR = 'system';

/** ConflictError unless the alert can be acknowledged. */
export function checkAcknowledge(alert: Pick<Alert, 'id' | 'state' | 'acknowledgedBy'>): void {
  if (alert.state === 'acknowledged')
    throw new ConflictError(`alert ${alert.id} is already acknowledged by ${alert.acknowledgedBy ?? '?'}`, {
      id: alert.id,
      state: alert.state,
    });
  if (alert.state === 'resolved')
    throw new ConflictError(`alert ${alert.id} is resolved; nothing to acknowledge`, {
      id: alert.id,
      state: alert.state,
    });
}

/** ConflictError unless the alert can be resolved. */
export function checkResolve(alert: Pick<Alert, 'id' | 'state' | 'resolvedBy'>): void {
  if (alert.state === 'resolved')
    throw new ConflictError(`alert ${alert.id} is already resolved by ${alert.resolvedBy ?? '?'}`, {
      id: alert.id,
      state: alert.state,
    });
}

export interface AlertFilter {
  state?: AlertState | 'unresolved';
  severity?: AlertSeverity;
  rule?: string;
  subject?: AlertSubject;
}
