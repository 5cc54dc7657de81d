/** Alert-rule and rule-state rows both stores share, decoded the same way (SQLite and PostgreSQL). */
import { alertSeverities, alertSubjectKinds } from '../alerts/alert.ts';
import { alertRuleSchema } from '../alerts/rules/alert-rule.ts';
import type { SubjectState } from '../alerts/rules/rule-evaluator.ts';
import { ConflictError, NotFoundError } from '../infra/errors.ts';
import type { RuleOrigin, StoredAlertRule } from './alert-rule-types.ts';

type Big = number | string;

export interface AlertRuleRow {
  name: string;
  definition: unknown;
  origin: string;
  created_at: Big;
  updated_at: Big;
}

export interface RuleStateRow {
  subject_kind: string;
  subject_id: string;
  since_ms: Big;
  streak: Big;
  firing: string | null;
}

export const ruleColumns = 'name, definition, origin, created_at, updated_at';

export function ruleFromRow(row: AlertRuleRow): StoredAlertRule {
  const definition =
    typeof row.definition === 'string' ? (JSON.parse(row.definition) as unknown) : row.definition;
  return {
    // Parsed again so a row written by an older Flotilla gets today's defaults.
    rule: alertRuleSchema.parse(definition),
    origin: row.origin as RuleOrigin,
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

export function stateFromRow(row: RuleStateRow): SubjectState {
  const kind = alertSubjectKinds.find((k) => k === row.subject_kind);
  if (kind === undefined)
    throw new Error(`stored rule state has an unknown subject kind: ${row.subject_kind}`);
  const firing = row.firing === null ? null : alertSeverities.find((s) => s === row.firing);
  if (firing === undefined)
    throw new Error(`stored rule state has an unknown severity: ${String(row.firing)}`);
  return {
    subject: { kind, id: row.subject_id },
    sinceMs: Number(row.since_ms),
    streak: Number(row.streak),
    firing: firing,
  };
}

export const ruleExists = (name: string): ConflictError =>
  new ConflictError(`alert rule ${name} already exists`, { name });
export const missingRule = (name: string): NotFoundError =>
  new NotFoundError(`alert rule ${name} not found`, { name });
