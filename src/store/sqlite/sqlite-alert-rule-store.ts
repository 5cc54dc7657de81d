/** Alert rules and their subject states on the shared better-sqlite3 handle. */
import type Database from 'better-sqlite3';
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
import { runSync } from './sqlite-errors.ts';

const sql = {
  insert: `INSERT INTO alert_rules (name, definition, origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (name) DO NOTHING RETURNING ${ruleColumns}`,
  select: `SELECT ${ruleColumns} FROM alert_rules WHERE name = ?`,
  list: `SELECT ${ruleColumns} FROM alert_rules ORDER BY name`,
  update: `UPDATE alert_rules SET definition = ?, updated_at = ? WHERE name = ? RETURNING ${ruleColumns}`,
  delete: 'DELETE FROM alert_rules WHERE name = ?',
  deleteStates: 'DELETE FROM alert_rule_state WHERE rule = ?',
  seed: 'INSERT INTO alert_rule_seeds (name, seeded_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
  states: `SELECT subject_kind, subject_id, since_ms, streak, firing FROM alert_rule_state WHERE rule = ?
    ORDER BY subject_kind, subject_id`,
  upsertState: `INSERT INTO alert_rule_state (rule, subject_kind, subject_id, since_ms, streak, firing, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule, subject_kind, subject_id) DO UPDATE SET
    since_ms = excluded.since_ms, streak = excluded.streak, firing = excluded.firing, updated_at = excluded.updated_at`,
  removeState: 'DELETE FROM alert_rule_state WHERE rule = ? AND subject_kind = ? AND subject_id = ?',
} as const;

type Statements = { [K in keyof typeof sql]: Database.Statement<unknown[], unknown> };

export class SqliteAlertRuleStore implements AlertRuleStore {
  readonly #db: Database.Database;
  readonly #s: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    const entries = Object.entries(sql).map(([key, text]) => [key, db.prepare(text)] as const);
    this.#s = Object.fromEntries(entries) as Statements;
  }

  #write<T>(work: () => T): Promise<T> {
    return runSync(this.#db, () => this.#db.transaction(work).immediate());
  }

  #insert(rule: AlertRule, origin: RuleOrigin, nowMs: number): AlertRuleRow | undefined {
    return this.#s.insert.get(rule.name, JSON.stringify(rule), origin, nowMs, nowMs) as
      AlertRuleRow | undefined;
  }

  createRule(rule: AlertRule, origin: RuleOrigin, nowMs: number): Promise<StoredAlertRule> {
    return this.#write(() => {
      const row = this.#insert(rule, origin, nowMs);
      if (row === undefined) throw ruleExists(rule.name);
      return ruleFromRow(row);
    });
  }

  getRule(name: string): Promise<StoredAlertRule | undefined> {
    return runSync(this.#db, () => {
      const row = this.#s.select.get(name) as AlertRuleRow | undefined;
      return row && ruleFromRow(row);
    });
  }

  listRules(): Promise<StoredAlertRule[]> {
    return runSync(this.#db, () => (this.#s.list.all() as AlertRuleRow[]).map(ruleFromRow));
  }

  updateRule(rule: AlertRule, nowMs: number): Promise<StoredAlertRule> {
    return this.#write(() => {
      const row = this.#s.update.get(JSON.stringify(rule), nowMs, rule.name) as AlertRuleRow | undefined;
      if (row === undefined) throw missingRule(rule.name);
      return ruleFromRow(row);
    });
  }

  deleteRule(name: string): Promise<boolean> {
    return this.#write(() => {
      this.#s.deleteStates.run(name);
      return this.#s.delete.run(name).changes > 0;
    });
  }

  seedRules(rules: readonly AlertRule[], nowMs: number): Promise<string[]> {
    return this.#write(() =>
      rules.flatMap((rule) => {
        if (this.#s.seed.run(rule.name, nowMs).changes === 0) return [];
        // A user rule of the same name wins: it is left as it is.
        return this.#insert(rule, 'default', nowMs) === undefined ? [] : [rule.name];
      }),
    );
  }

  ruleStates(rule: string): Promise<SubjectState[]> {
    return runSync(this.#db, () => (this.#s.states.all(rule) as RuleStateRow[]).map(stateFromRow));
  }

  saveRuleStates(
    rule: string,
    upsert: readonly SubjectState[],
    remove: readonly AlertSubject[],
    nowMs: number,
  ): Promise<void> {
    if (upsert.length === 0 && remove.length === 0) return Promise.resolve();
    return this.#write(() => {
      for (const state of upsert)
        this.#s.upsertState.run(
          rule,
          state.subject.kind,
          state.subject.id,
          state.sinceMs,
          state.streak,
          state.firing,
          nowMs,
        );
      for (const subject of remove) this.#s.removeState.run(rule, subject.kind, subject.id);
    });
  }
}
