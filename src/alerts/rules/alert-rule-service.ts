/**
 * Alert rules as a service: list, show, create, update (a partial change, checked again as a
 * whole), delete, and seeding the shipped defaults. Fleet queries in a rule (`scope`, `query`) are
 * checked on save like saved groups; every change is audited. Deleting or disabling a rule clears
 * the alerts it raised (the cycle clears a disabled rule's alerts on its next run).
 */
import type { Logger } from 'pino';
import { validationErrorFrom } from '../../api/error-mapping.ts';
import type { GroupService } from '../../groups/group-service.ts';
import type { Clock } from '../../infra/clock.ts';
import { NotFoundError, ValidationError } from '../../infra/errors.ts';
import type { AlertRuleStore, StoredAlertRule } from '../../store/alert-rule-types.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import type { AlertService } from '../alert-service.ts';
import { alertRuleSchema, type AlertRule, type AlertRulePatch } from './alert-rule.ts';
import { defaultAlertRules } from './default-rules.ts';

export interface AlertRuleServiceDeps {
  store: AlertRuleStore;
  groups: Pick<GroupService, 'parse'>;
  alerts: Pick<AlertService, 'clear'>;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
}

export function createAlertRuleService(deps: AlertRuleServiceDeps) {
  const { store, clock } = deps;

  /** ValidationError naming the field when `scope` or `query` is not a working fleet query. */
  async function checkQueries(rule: AlertRule): Promise<void> {
    for (const field of ['scope', 'query'] as const) {
      const text = rule[field];
      if (text === undefined) continue;
      try {
        await deps.groups.parse(text);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new ValidationError(`invalid request: body.${field}: ${error.message}`, {
          issues: [{ field: `body.${field}`, message: error.message }],
          ...error.details,
        });
      }
    }
  }

  async function audit(action: string, name: string, details: Record<string, unknown>, actor: string) {
    await deps.audit.appendAudit({
      atMs: clock.now(),
      actor,
      action: `alert-rule.${action}`,
      target: name,
      source: 'alerts',
      details,
    });
  }

  async function get(name: string): Promise<StoredAlertRule> {
    const stored = await store.getRule(name);
    if (stored === undefined) throw new NotFoundError(`alert rule ${name} not found`, { name });
    return stored;
  }

  /** Resolves the alerts a rule raised (it was deleted or disabled). */
  async function clearFiring(name: string, note: string): Promise<void> {
    for (const state of await store.ruleStates(name))
      if (state.firing !== null) await deps.alerts.clear(name, state.subject, note);
  }

  return {
    list: () => store.listRules(),
    get,

    async create(rule: AlertRule, actor: string): Promise<StoredAlertRule> {
      await checkQueries(rule);
      const stored = await store.createRule(rule, 'user', clock.now());
      await audit('created', rule.name, { rule }, actor);
      return stored;
    },

    /** Applies `patch` to the stored rule and checks the result as a whole. */
    async update(name: string, patch: AlertRulePatch, actor: string): Promise<StoredAlertRule> {
      const current = await get(name);
      const merged = alertRuleSchema.safeParse({ ...current.rule, ...patch, name });
      if (!merged.success) throw validationErrorFrom('body', merged.error);
      await checkQueries(merged.data);
      const stored = await store.updateRule(merged.data, clock.now());
      if (current.rule.enabled && !merged.data.enabled) await clearFiring(name, 'rule disabled');
      await audit('updated', name, { patch }, actor);
      return stored;
    },

    async delete(name: string, actor: string): Promise<void> {
      await get(name);
      await clearFiring(name, 'rule deleted');
      if (!(await store.deleteRule(name))) throw new NotFoundError(`alert rule ${name} not found`, { name });
      await audit('deleted', name, {}, actor);
    },

    /** Creates the shipped defaults never seeded before; returns their names. */
    async seedDefaults(): Promise<string[]> {
      const seeded = await store.seedRules(defaultAlertRules, clock.now());
      if (seeded.length > 0) deps.logger.info({ rules: seeded }, 'seeded default alert rules');
      return seeded;
    },
  };
}

export type AlertRuleService = ReturnType<typeof createAlertRuleService>;
