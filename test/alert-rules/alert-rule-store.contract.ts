/**
 * The AlertRuleStore contract on SQLite and PostgreSQL: CRUD with conflicts, seeding once (a
 * deleted or edited default stays as the operator left it), and subject states written in batches.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { alertRuleSchema } from '../../src/alerts/rules/alert-rule.ts';
import { defaultAlertRules } from '../../src/alerts/rules/default-rules.ts';
import type { SubjectState } from '../../src/alerts/rules/rule-evaluator.ts';
import { ConflictError, NotFoundError } from '../../src/infra/errors.ts';
import type { Stores } from '../../src/store/open-store.ts';

const t0 = Date.UTC(2026, 10, 1);

const rule = alertRuleSchema.parse({
  name: 'temp-high',
  target: 'device',
  metric: 'temperature',
  operator: '>',
  levels: [{ severity: 'warning', threshold: 70 }],
  for: '5m',
});

const state = (id: string, overrides: Partial<SubjectState> = {}): SubjectState => ({
  subject: { kind: 'device', id },
  sinceMs: t0,
  streak: 1,
  firing: null,
  ...overrides,
});

export function alertRuleStoreContract(makeStores: () => Promise<Stores>): void {
  describe('AlertRuleStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });

    it('creates, reads, updates and deletes rules', async () => {
      const created = await stores.alertRules.createRule(rule, 'user', t0);
      assert.deepEqual(created, { rule, origin: 'user', createdAtMs: t0, updatedAtMs: t0 });
      await assert.rejects(stores.alertRules.createRule(rule, 'user', t0), ConflictError);
      assert.deepEqual(await stores.alertRules.getRule('temp-high'), created);
      const updated = await stores.alertRules.updateRule({ ...rule, enabled: false }, t0 + 1000);
      assert.equal(updated.rule.enabled, false);
      assert.equal(updated.updatedAtMs, t0 + 1000);
      assert.equal(updated.createdAtMs, t0);
      await assert.rejects(stores.alertRules.updateRule({ ...rule, name: 'nope' }, t0), NotFoundError);
      assert.deepEqual(
        (await stores.alertRules.listRules()).map((r) => r.rule.name),
        ['temp-high'],
      );
      await stores.alertRules.saveRuleStates('temp-high', [state('d1')], [], t0);
      assert.equal(await stores.alertRules.deleteRule('temp-high'), true);
      assert.equal(await stores.alertRules.deleteRule('temp-high'), false);
      assert.equal(await stores.alertRules.getRule('temp-high'), undefined);
      assert.deepEqual(await stores.alertRules.ruleStates('temp-high'), []);
    });

    it('seeds each default once and never overwrites or restores it', async () => {
      const names = defaultAlertRules.map((r) => r.name);
      assert.deepEqual((await stores.alertRules.seedRules(defaultAlertRules, t0)).sort(), [...names].sort());
      const battery = (await stores.alertRules.getRule('battery-low'))!;
      assert.equal(battery.origin, 'default');
      await stores.alertRules.updateRule({ ...battery.rule, for: '30m' }, t0 + 1);
      await stores.alertRules.deleteRule('signal-weak');
      assert.deepEqual(await stores.alertRules.seedRules(defaultAlertRules, t0 + 2), []);
      assert.equal((await stores.alertRules.getRule('battery-low'))?.rule.for, '30m');
      assert.equal(await stores.alertRules.getRule('signal-weak'), undefined);
    });

    it('keeps subject states, updating and removing them in batches', async () => {
      await stores.alertRules.createRule(rule, 'user', t0);
      const many = Array.from({ length: 1200 }, (_, i) => state(`d${String(i).padStart(4, '0')}`));
      await stores.alertRules.saveRuleStates('temp-high', many, [], t0);
      assert.equal((await stores.alertRules.ruleStates('temp-high')).length, 1200);
      await stores.alertRules.saveRuleStates(
        'temp-high',
        [
          state('d0000', { streak: 3, firing: 'critical' }),
          state('x', { subject: { kind: 'fleet', id: 'fleet' } }),
        ],
        many.slice(1).map((s) => s.subject),
        t0 + 1,
      );
      assert.deepEqual(await stores.alertRules.ruleStates('temp-high'), [
        state('d0000', { streak: 3, firing: 'critical' }),
        { subject: { kind: 'fleet', id: 'fleet' }, sinceMs: t0, streak: 1, firing: null },
      ]);
      assert.deepEqual(await stores.alertRules.ruleStates('other'), []);
    });
  });
}
