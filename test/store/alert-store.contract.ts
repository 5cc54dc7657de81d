/**
 * The AlertStore contract, run against SQLite and PostgreSQL: de-duplication per key, the
 * lifecycle and its conflicts, history, filters and paging.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { alertRaiseSchema, type AlertRaiseInput } from '../../src/alerts/alert.ts';
import { ConflictError, NotFoundError } from '../../src/infra/errors.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { t0 } from './provisioning-fixtures.ts';
import type { StoresFactory } from './provisioning-store.contract.ts';

const raise = (overrides: Partial<AlertRaiseInput> = {}) =>
  alertRaiseSchema.parse({
    rule: 'battery-low',
    severity: 'warning',
    subject: { kind: 'device', id: 'd1' },
    title: 'battery below 10 %',
    detail: 'battery_pct 8 < 10',
    details: { value: 8 },
    ...overrides,
  });

export function alertStoreContract(makeStores: StoresFactory): void {
  describe('AlertStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });

    it('opens one alert per key and counts the raises of an unresolved one', async () => {
      const first = await stores.alerts.raise(raise(), 'al-1', t0);
      assert.equal(first.opened, true);
      assert.equal(first.alert.state, 'open');
      assert.deepEqual(first.alert.details, { value: 8 });
      const again = await stores.alerts.raise(raise({ detail: 'battery_pct 7 < 10' }), 'al-2', t0 + 60_000);
      assert.equal(again.opened, false);
      assert.equal(again.alert.id, 'al-1');
      assert.equal(again.alert.raiseCount, 2);
      assert.equal(again.alert.lastRaisedAtMs, t0 + 60_000);
      assert.equal(again.alert.openedAtMs, t0);
      assert.equal(again.alert.detail, 'battery_pct 7 < 10');
      // Another subject or rule is another alert.
      assert.equal(
        (await stores.alerts.raise(raise({ subject: { kind: 'device', id: 'd2' } }), 'al-3', t0)).opened,
        true,
      );
      assert.equal((await stores.alerts.raise(raise({ rule: 'signal-low' }), 'al-4', t0)).opened, true);
    });

    it('records a severity change and keeps an acknowledged alert acknowledged', async () => {
      await stores.alerts.raise(raise(), 'al-1', t0);
      await stores.alerts.acknowledge('al-1', 'alice', t0 + 1, 'on it');
      const worse = await stores.alerts.raise(raise({ severity: 'critical' }), 'al-2', t0 + 2);
      assert.equal(worse.opened, false);
      assert.equal(worse.previousSeverity, 'warning');
      assert.equal(worse.alert.severity, 'critical');
      assert.equal(worse.alert.state, 'acknowledged');
      const kinds = (await stores.alerts.listEvents('al-1')).map((e) => [e.kind, e.actor]);
      assert.deepEqual(kinds, [
        ['opened', 'system'],
        ['acknowledged', 'alice'],
        ['severity-changed', 'system'],
      ]);
    });

    it('walks open → acknowledged → resolved and refuses what does not fit', async () => {
      await stores.alerts.raise(raise(), 'al-1', t0);
      const acked = await stores.alerts.acknowledge('al-1', 'alice', t0 + 1, null);
      assert.equal(acked.state, 'acknowledged');
      assert.equal(acked.acknowledgedBy, 'alice');
      await assert.rejects(stores.alerts.acknowledge('al-1', 'bob', t0 + 2, null), ConflictError);
      const resolved = await stores.alerts.resolve('al-1', 'bob', t0 + 3, 'replaced the battery');
      assert.equal(resolved.state, 'resolved');
      assert.equal(resolved.resolvedAtMs, t0 + 3);
      await assert.rejects(stores.alerts.resolve('al-1', 'bob', t0 + 4, null), /already resolved by bob/);
      await assert.rejects(stores.alerts.acknowledge('al-1', 'bob', t0 + 4, null), ConflictError);
      await assert.rejects(stores.alerts.acknowledge('nope', 'bob', t0, null), NotFoundError);
      // After resolution the same problem opens a new alert.
      const next = await stores.alerts.raise(raise(), 'al-2', t0 + 5);
      assert.equal(next.opened, true);
      assert.equal(next.alert.id, 'al-2');
    });

    it('resolves by key, once', async () => {
      const { alert } = await stores.alerts.raise(raise(), 'al-1', t0);
      const resolved = await stores.alerts.resolveKey(alert.key, 'system', t0 + 1, 'cleared');
      assert.equal(resolved?.id, 'al-1');
      assert.equal(await stores.alerts.resolveKey(alert.key, 'system', t0 + 2, null), undefined);
    });

    it('lists newest first with filters and pages, and counts the unresolved', async () => {
      for (let i = 0; i < 5; i++)
        await stores.alerts.raise(
          raise({ subject: { kind: 'device', id: `d${i}` }, severity: i % 2 === 0 ? 'warning' : 'critical' }),
          `al-${i}`,
          t0 + i,
        );
      await stores.alerts.resolve('al-0', 'alice', t0 + 10, null);
      await stores.alerts.acknowledge('al-1', 'alice', t0 + 10, null);
      const first = await stores.alerts.listAlerts({}, { limit: 2 });
      assert.deepEqual(
        first.items.map((a) => a.id),
        ['al-4', 'al-3'],
      );
      const second = await stores.alerts.listAlerts({}, { limit: 10, cursor: first.nextCursor! });
      assert.deepEqual(
        second.items.map((a) => a.id),
        ['al-2', 'al-1', 'al-0'],
      );
      assert.equal(second.nextCursor, undefined);
      const unresolved = await stores.alerts.listAlerts({ state: 'unresolved' }, { limit: 10 });
      assert.equal(unresolved.items.length, 4);
      const critical = await stores.alerts.listAlerts({ severity: 'critical', state: 'open' }, { limit: 10 });
      assert.deepEqual(
        critical.items.map((a) => a.id),
        ['al-3'],
      );
      const bySubject = await stores.alerts.listAlerts(
        { subject: { kind: 'device', id: 'd2' } },
        { limit: 10 },
      );
      assert.deepEqual(
        bySubject.items.map((a) => a.id),
        ['al-2'],
      );
      assert.deepEqual(await stores.alerts.countUnresolved(), [
        { state: 'acknowledged', severity: 'critical', count: 1 },
        { state: 'open', severity: 'critical', count: 1 },
        { state: 'open', severity: 'warning', count: 2 },
      ]);
      // Injection through a filter value is just a value.
      const none = await stores.alerts.listAlerts({ rule: "x' OR '1'='1" }, { limit: 10 });
      assert.equal(none.items.length, 0);
    });

    it('keeps one alert when the same key is raised concurrently', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => stores.alerts.raise(raise(), `al-c${i}`, t0 + i)),
      );
      assert.equal(results.filter((r) => r.opened).length, 1);
      const all = await stores.alerts.listAlerts({}, { limit: 10 });
      assert.equal(all.items.length, 1);
      assert.equal(all.items[0]!.raiseCount, 8);
    });
  });
}
