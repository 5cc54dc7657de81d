/** The DeviceConfigStore contract, run on SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigSchema } from '../../src/contracts/config-messages.ts';
import { ConflictError } from '../../src/infra/errors.ts';
import type { DeviceConfigStore } from '../../src/store/device-config-types.ts';

const T0 = 1_700_000_000_000;
const schema: ConfigSchema = {
  'heartbeat.intervalS': { type: 'integer', min: 5, max: 3600, default: 60, apply: 'live' },
  'log.level': { type: 'enum', enum: ['debug', 'info'], default: 'info', apply: 'restart' },
};

export function deviceConfigStoreContract(
  open: () => Promise<{ store: DeviceConfigStore; close(): Promise<void> }>,
): void {
  describe('DeviceConfigStore contract', () => {
    let env: { store: DeviceConfigStore; close(): Promise<void> };
    before(async () => {
      env = await open();
    });
    after(async () => {
      await env.close();
    });

    it('versions the desired document and refuses a stale expectedVersion', async () => {
      const { store } = env;
      assert.equal(await store.getDevice('d-1'), undefined);
      assert.equal(await store.putDesired('d-1', { 'heartbeat.intervalS': 30 }, 0, T0), 1);
      assert.equal(await store.putDesired('d-1', { 'heartbeat.intervalS': 20 }, undefined, T0 + 1), 2);
      await assert.rejects(store.putDesired('d-1', {}, 1, T0 + 2), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.equal(err.details?.version, 2);
        return true;
      });
      await assert.rejects(store.putDesired('d-new', {}, 3, T0), ConflictError);
      const record = await store.getDevice('d-1');
      assert.deepEqual(record?.desired, {
        values: { 'heartbeat.intervalS': 20 },
        version: 2,
        updatedAt: new Date(T0 + 1).toISOString(),
      });
      assert.deepEqual(record?.sent, { values: {}, version: 0, sentAt: null });
      assert.equal(record?.reported, undefined);
      assert.equal(record?.schema, undefined);
    });

    it('keeps sent versions monotonic, above a version the device reported', async () => {
      const { store } = env;
      assert.equal(await store.recordSent('d-2', { a: 1 }, 0, T0), 1);
      assert.equal(await store.recordSent('d-2', { a: 2 }, 0, T0), 2);
      assert.equal(await store.recordSent('d-2', { a: 3 }, 9, T0 + 5), 10);
      const record = await store.getDevice('d-2');
      assert.deepEqual(record?.sent, {
        values: { a: 3 },
        version: 10,
        sentAt: new Date(T0 + 5).toISOString(),
      });
    });

    it('stores the report and the schema', async () => {
      const { store } = env;
      const report = {
        version: 3,
        values: { 'heartbeat.intervalS': 30, 'log.level': 'info' },
        pendingRestart: ['log.level'],
        rejected: [{ key: 'x.y', reason: 'unknown key' }],
      };
      await store.putReported('d-3', report, T0);
      await store.putSchema('d-3', schema, T0 + 1);
      const record = await store.getDevice('d-3');
      assert.deepEqual(record?.reported, { report, at: new Date(T0).toISOString() });
      assert.deepEqual(record?.schema, { schema, at: new Date(T0 + 1).toISOString() });
      assert.equal(record?.desired.version, 0);
    });

    it('keeps fleet and group defaults with priorities and versions', async () => {
      const { store } = env;
      const fleet = await store.putDefaults(
        { scope: 'fleet', name: '', priority: 0, values: { 'log.level': 'info' } },
        0,
        T0,
      );
      assert.equal(fleet.version, 1);
      await store.putDefaults(
        { scope: 'group', name: 'b-site', priority: 5, values: { x: 1 } },
        undefined,
        T0,
      );
      const a = await store.putDefaults(
        { scope: 'group', name: 'a-site', priority: 1, values: { x: 2 } },
        0,
        T0,
      );
      await assert.rejects(
        store.putDefaults({ scope: 'group', name: 'a-site', priority: 1, values: {} }, 0, T0),
        ConflictError,
      );
      const a2 = await store.putDefaults(
        { scope: 'group', name: 'a-site', priority: 2, values: { x: 3 } },
        a.version,
        T0 + 1,
      );
      assert.deepEqual(a2, {
        scope: 'group',
        name: 'a-site',
        priority: 2,
        values: { x: 3 },
        version: 2,
        updatedAt: new Date(T0 + 1).toISOString(),
      });
      assert.deepEqual(
        (await store.listDefaults()).map((doc) => `${doc.scope}:${doc.name}`),
        ['fleet:', 'group:a-site', 'group:b-site'],
      );
      assert.deepEqual(await store.getDefaults('group', 'a-site'), a2);
      assert.equal(await store.getDefaults('group', 'zzz'), undefined);
      assert.equal(await store.deleteDefaults('group', 'b-site'), true);
      assert.equal(await store.deleteDefaults('group', 'b-site'), false);
      assert.deepEqual(
        (await store.listDefaults()).map((doc) => doc.name),
        ['', 'a-site'],
      );
    });
  });
}
