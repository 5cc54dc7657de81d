/** Alert rules and their subject states on the shared pg pool; state writes are one statement each way. */
import type { AlertSubject } from '../../alerts/alert.ts';
import type { AlertRule } from '../../alerts/rules/alert-rule.ts';
import type { SubjectState } from '../../alerts/rules/rule-evaluator.ts';
import {
  missingRule,
  ruleColumns,
  ruleExists,
  ruleFromRow,
  stateFromRow,
  type AlertRuleRow,
  type RuleStateRow,
} from '../alert-rule-rows.ts';
import type { AlertRuleStore, RuleOrigin, StoredAlertRule } from '../alert-rule-types.ts';
import type { PgSession } from './pg-session.ts';

const sql = {
  insert: `INSERT INTO alert_rules (name, definition, origin, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
    ON CONFLICT (name) DO NOTHING RETURNING ${ruleColumns}`,
  select: `SELECT ${ruleColumns} FROM alert_rules WHERE name = $1`,
  list: `SELECT ${ruleColumns} FROM alert_rules ORDER BY name`,
  update: `UPDATE alert_rules SET definition = $1, updated_at = $2 WHERE name = $3 RETURNING ${ruleColumns}`,
  delete: 'DELETE FROM alert_rules WHERE name = $1',
  deleteStates: 'DELETE FROM alert_rule_state WHERE rule = $1',
  seed: 'INSERT INTO alert_rule_seeds (name, seeded_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
  states: `SELECT subject_kind, subject_id, since_ms, streak, firing FROM alert_rule_state WHERE rule = $1
    ORDER BY subject_kind, subject_id`,
  upsertStates: `INSERT INTO alert_rule_state (rule, subject_kind, subject_id, since_ms, streak, firing, updated_at)
    SELECT $1, * , $7 FROM unnest($2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[])
    ON CONFLICT (rule, subject_kind, subject_id) DO UPDATE SET since_ms = excluded.since_ms,
      streak = excluded.streak, firing = excluded.firing, updated_at = excluded.updated_at`,
  removeStates: `DELETE FROM alert_rule_state WHERE rule = $1
    AND (subject_kind, subject_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
} as const;

export class PostgresAlertRuleStore implements AlertRuleStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async createRule(rule: AlertRule, origin: RuleOrigin, nowMs: number): Promise<StoredAlertRule> {
    const result = await this.#session.query<AlertRuleRow>(sql.insert, [rule.name, rule, origin, nowMs]);
    const row = result.rows[0];
    if (row === undefined) throw ruleExists(rule.name);
    return ruleFromRow(row);
  }

  async getRule(name: string): Promise<StoredAlertRule | undefined> {
    const row = (await this.#session.query<AlertRuleRow>(sql.select, [name])).rows[0];
    return row && ruleFromRow(row);
  }

  async listRules(): Promise<StoredAlertRule[]> {
    return (await this.#session.query<AlertRuleRow>(sql.list, [])).rows.map(ruleFromRow);
  }

  async updateRule(rule: AlertRule, nowMs: number): Promise<StoredAlertRule> {
    const row = (await this.#session.query<AlertRuleRow>(sql.update, [rule, nowMs, rule.name])).rows[0];
    if (row === undefined) throw missingRule(rule.name);
    return ruleFromRow(row);
  }

  deleteRule(name: string): Promise<boolean> {
    return this.#session.transaction(async (client) => {
      await client.query(sql.deleteStates, [name]);
      return ((await client.query(sql.delete, [name])).rowCount ?? 0) > 0;
    });
  }

  seedRules(rules: readonly AlertRule[], nowMs: number): Promise<string[]> {
    return this.#session.transaction(async (client) => {
      const seeded: string[] = [];
      for (const rule of rules) {
        if (((await client.query(sql.seed, [rule.name, nowMs])).rowCount ?? 0) === 0) continue;
        const created = await client.query(sql.insert, [rule.name, rule, 'default', nowMs]);
        if ((created.rowCount ?? 0) > 0) seeded.push(rule.name);
      }
      return seeded;
    });
  }

  async ruleStates(rule: string): Promise<SubjectState[]> {
    return (await this.#session.query<RuleStateRow>(sql.states, [rule])).rows.map(stateFromRow);
  }

  async saveRuleStates(
    rule: string,
    upsert: readonly SubjectState[],
    remove: readonly AlertSubject[],
    nowMs: number,
  ): Promise<void> {
    if (upsert.length === 0 && remove.length === 0) return;
    await this.#session.transaction(async (client) => {
      if (upsert.length > 0)
        await client.query(sql.upsertStates, [
          rule,
          upsert.map((s) => s.subject.kind),
          upsert.map((s) => s.subject.id),
          upsert.map((s) => s.sinceMs),
          upsert.map((s) => s.streak),
          upsert.map((s) => s.firing),
          nowMs,
        ]);
      if (remove.length > 0)
        await client.query(sql.removeStates, [rule, remove.map((s) => s.kind), remove.map((s) => s.id)]);
    });
  }
}
