/** The GroupStore contract, run on SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConflictError } from '../../src/infra/errors.ts';
import type { GroupStore } from '../../src/store/group-types.ts';

export function groupStoreContract(
  open: () => Promise<{ groups: GroupStore; close(): Promise<void> }>,
): void {
  describe('GroupStore contract', () => {
    let env: { groups: GroupStore; close(): Promise<void> };
    before(async () => {
      env = await open();
    });
    after(async () => {
      await env.close();
    });

    it('creates, reads, lists by name and deletes groups', async () => {
      const { groups } = env;
      const created = await groups.createGroup(
        { name: 'low-battery', query: 'battery < 20' },
        1_700_000_000_000,
      );
      assert.deepEqual(created, {
        name: 'low-battery',
        query: 'battery < 20',
        createdAt: new Date(1_700_000_000_000).toISOString(),
      });
      await groups.createGroup({ name: 'beta', query: 'tag.ring = "beta"' }, 1_700_000_000_001);
      assert.deepEqual(await groups.getGroup('low-battery'), created);
      assert.equal(await groups.getGroup('nothing'), undefined);
      assert.deepEqual(
        (await groups.listGroups()).map((group) => group.name),
        ['beta', 'low-battery'],
      );
      await assert.rejects(groups.createGroup({ name: 'beta', query: 'online' }, 0), ConflictError);
      assert.equal(await groups.deleteGroup('beta'), true);
      assert.equal(await groups.deleteGroup('beta'), false);
      assert.deepEqual(
        (await groups.listGroups()).map((group) => group.name),
        ['low-battery'],
      );
    });
  });
}
