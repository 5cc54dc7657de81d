/**
 * The audit log contract, run against both stores: filters, keyset paging in both orders, and
 * the append-only guarantee (raw UPDATE and DELETE refused by the database itself).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ValidationError } from '../../src/infra/errors.ts';
import type { Stores } from '../../src/store/open-store.ts';
import type { AuditFilter } from '../../src/store/audit-query.ts';
import type { AuditEntry, NewAuditEntry } from '../../src/store/provisioning-types.ts';
import { iso, t0 } from './provisioning-fixtures.ts';

/** Runs one raw SQL statement (naming the table `audit_log`) against the current stores' database. */
export type RawSql = (statement: string) => Promise<void>;

const entry = (overrides: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
  atMs: t0,
  actor: 'api',
  action: 'device.revoked',
  target: 'S1',
  source: 'local',
  details: {},
  ...overrides,
});

/** Seeds a small varied log: time t0 + i s unless a test passes its own. */
const seed: NewAuditEntry[] = [
  entry({ atMs: t0 + 1000, actor: 'api', action: 'alert.opened', target: 'r1', source: '10.0.0.1' }),
  entry({ atMs: t0 + 2000, actor: 'cli', action: 'alert.resolved', target: 'r1', source: 'local' }),
  entry({ atMs: t0 + 3000, actor: 'api', action: 'alertX.opened', target: 'r2', source: '10.0.0.1' }),
  entry({ atMs: t0 + 4000, actor: 'device:S1', action: 'certificate.renewed', target: 'S1' }),
  entry({ atMs: t0 + 5000, actor: 'api', action: 'Alert.opened', target: 'r3', source: '10.0.0.2' }),
  entry({ atMs: t0 + 6000, actor: 'api', action: 'alert_opened', target: 'r4', source: '10.0.0.2' }),
];

export function auditLogContract(makeStores: () => Promise<Stores>, rawSql: () => RawSql): void {
  describe('audit log contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });
    const audit = () => stores.provisioning;
    const append = async (entries: NewAuditEntry[]) => {
      for (const e of entries) await audit().appendAudit(e);
    };
    const actions = async (filter: Partial<AuditFilter>) =>
      (await audit().listAudit({ limit: 100, ...filter })).map((e) => e.action);

    it('filters by actor, source, target, action and time range, newest first', async () => {
      await append(seed);
      assert.deepEqual(await actions({ actor: 'cli' }), ['alert.resolved']);
      assert.deepEqual(await actions({ source: '10.0.0.2' }), ['alert_opened', 'Alert.opened']);
      assert.deepEqual(await actions({ target: 'r1' }), ['alert.resolved', 'alert.opened']);
      assert.deepEqual(await actions({ action: 'alert.opened' }), ['alert.opened']);
      assert.deepEqual(await actions({ actor: 'api', source: '10.0.0.1' }), [
        'alertX.opened',
        'alert.opened',
      ]);
      // from inclusive, to exclusive
      assert.deepEqual(await actions({ fromMs: t0 + 2000, toMs: t0 + 4000 }), [
        'alertX.opened',
        'alert.resolved',
      ]);
      assert.deepEqual(await actions({ fromMs: t0 + 6000 }), ['alert_opened']);
      assert.deepEqual(await actions({ toMs: t0 + 1001 }), ['alert.opened']);
      assert.deepEqual(await actions({ actor: 'nobody' }), []);
    });

    it('matches an action prefix exactly: case-sensitive, with % and _ taken literally', async () => {
      await append(seed);
      assert.deepEqual(await actions({ actionPrefix: 'alert.' }), ['alert.resolved', 'alert.opened']);
      assert.deepEqual(await actions({ actionPrefix: 'alert_' }), ['alert_opened']);
      assert.deepEqual(await actions({ actionPrefix: 'Alert' }), ['Alert.opened']);
      assert.deepEqual(await actions({ actionPrefix: '%' }), []);
      assert.deepEqual(await actions({ actionPrefix: 'alert.', target: 'r1', actor: 'cli' }), [
        'alert.resolved',
      ]);
    });

    it('pages newest first by (at, id) over several pages, entries at the same time included', async () => {
      // 7 entries, three of them at the same millisecond.
      const times = [t0, t0 + 1, t0 + 1, t0 + 1, t0 + 2, t0 + 3, t0 + 4];
      await append(times.map((atMs, i) => entry({ atMs, target: `T${i}` })));
      const seen: AuditEntry[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await audit().pageAudit({ limit: 3, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(
        seen.map((e) => e.target),
        ['T6', 'T5', 'T4', 'T3', 'T2', 'T1', 'T0'],
      );
      assert.equal(new Set(seen.map((e) => e.id)).size, 7);
      assert.equal(seen[3]?.at, iso(t0 + 1));
    });

    it('pages oldest first with the same filters, and ends without a cursor', async () => {
      await append(seed);
      const first = await audit().pageAudit({ order: 'oldest', actor: 'api', limit: 2 });
      assert.deepEqual(
        first.items.map((e) => e.action),
        ['alert.opened', 'alertX.opened'],
      );
      assert.ok(first.nextCursor);
      const second = await audit().pageAudit({
        order: 'oldest',
        actor: 'api',
        limit: 2,
        cursor: first.nextCursor,
      });
      assert.deepEqual(
        second.items.map((e) => e.action),
        ['Alert.opened', 'alert_opened'],
      );
      assert.equal(second.nextCursor, undefined);
      const exact = await audit().pageAudit({ limit: 6 });
      assert.equal(exact.items.length, 6);
      assert.equal(exact.nextCursor, undefined);
    });

    it('refuses a malformed cursor, a bad limit and an empty time range', async () => {
      await assert.rejects(audit().pageAudit({ limit: 10, cursor: 'bm9wZQ' }), ValidationError);
      await assert.rejects(audit().pageAudit({ limit: 10, cursor: '***' }), ValidationError);
      await assert.rejects(audit().pageAudit({ limit: 0 }), ValidationError);
      await assert.rejects(audit().pageAudit({ limit: 10, fromMs: t0, toMs: t0 }), ValidationError);
    });

    it('is append-only: raw UPDATE and DELETE are refused and the row is unchanged', async () => {
      await append([entry({ details: { reason: 'stolen' } })]);
      const [before] = await audit().listAudit({ limit: 10 });
      assert.ok(before);
      const raw = rawSql();
      await assert.rejects(raw(`UPDATE audit_log SET actor = 'mallory'`), /audit_log is append-only/);
      await assert.rejects(raw(`DELETE FROM audit_log`), /audit_log is append-only/);
      await assert.rejects(raw(`DELETE FROM audit_log WHERE id = ${before.id}`), /audit_log is append-only/);
      assert.deepEqual(await audit().listAudit({ limit: 10 }), [before]);
      // Appending still works.
      await append([entry({ atMs: t0 + 1, action: 'device.provisioned' })]);
      assert.equal((await audit().listAudit({ limit: 10 })).length, 2);
    });
  });
}
