/**
 * Alert rules and their per-subject evaluation state (pending or firing), in sqlite/ and postgres/
 * (migration 13), checked by one contract suite (test/alert-rules/alert-rule-store.contract.ts).
 */
import type { AlertRule } from '../alerts/rules/alert-rule.ts';
import type { SubjectState } from '../alerts/rules/rule-evaluator.ts';
import type { AlertSubject } from '../alerts/alert.ts';

/** `default`: seeded by Flotilla (and maybe edited since); `user`: created through the API. */
export type RuleOrigin = 'default' | 'user';

export interface StoredAlertRule {
  rule: AlertRule;
  origin: RuleOrigin;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface AlertRuleStore {
  /** ConflictError when a rule of that name exists. */
  createRule(rule: AlertRule, origin: RuleOrigin, nowMs: number): Promise<StoredAlertRule>;
  getRule(name: string): Promise<StoredAlertRule | undefined>;
  /** Every rule, by name. */
  listRules(): Promise<StoredAlertRule[]>;
  /** Replaces the definition; NotFoundError when unknown. */
  updateRule(rule: AlertRule, nowMs: number): Promise<StoredAlertRule>;
  /** Deletes the rule and its subject states; false when there was no such rule. */
  deleteRule(name: string): Promise<boolean>;
  /**
   * Creates each rule whose name was never seeded before (a seeded rule the operator deleted or
   * edited stays as the operator left it). Returns the names created.
   */
  seedRules(rules: readonly AlertRule[], nowMs: number): Promise<string[]>;
  /** The rule's pending and firing subjects. */
  ruleStates(rule: string): Promise<SubjectState[]>;
  /** Writes the changed states and removes the cleared ones, in one transaction. */
  saveRuleStates(
    rule: string,
    upsert: readonly SubjectState[],
    remove: readonly AlertSubject[],
    nowMs: number,
  ): Promise<void>;
}
