/** The AccessStore contract, run on SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConflictError } from '../../src/infra/errors.ts';
import type { Stores } from '../../src/store/open-store.ts';

const T0 = 1_700_000_000_000;
const scoped = { role: 'operator' as const, scope: { kind: 'query' as const, where: 'group = "eu-west"' } };

export function accessStoreContract(open: () => Promise<Stores>): void {
  it('creates users with role bindings, lists, changes roles and refuses a taken name', async () => {
    const stores = await open();
    try {
      const { access } = stores;
      const ada = await access.createUser(
        {
          name: 'ada',
          passwordHash: 'scrypt$h1',
          roles: [{ role: 'admin', scope: { kind: 'all' } }, scoped],
        },
        T0,
      );
      assert.deepEqual(ada, {
        name: 'ada',
        createdAt: new Date(T0).toISOString(),
        disabledAt: null,
        roles: [{ role: 'admin', scope: { kind: 'all' } }, scoped],
      });
      await access.createUser({ name: 'bob', passwordHash: 'scrypt$h2', roles: [] }, T0 + 1);
      await assert.rejects(
        access.createUser({ name: 'bob', passwordHash: 'x', roles: [] }, T0),
        ConflictError,
      );
      assert.equal(await access.countUsers(), 2);
      assert.deepEqual(
        (await access.listUsers()).map((u) => [u.name, u.roles.length]),
        [
          ['ada', 2],
          ['bob', 0],
        ],
      );
      assert.equal((await access.getUser('ada'))?.passwordHash, 'scrypt$h1');
      assert.equal(await access.getUser('nobody'), undefined);
      assert.equal(await access.setUserRoles('bob', [scoped]), true);
      assert.deepEqual((await access.getUser('bob'))?.roles, [scoped]);
      assert.equal(await access.setUserRoles('nobody', [scoped]), false);
      assert.equal(await access.setPasswordHash('bob', 'scrypt$h3'), true);
      assert.equal((await access.getUser('bob'))?.passwordHash, 'scrypt$h3');
    } finally {
      await stores.close();
    }
  });

  it('keeps sessions by hash with expiry, activity and revocation; disabling a user revokes them', async () => {
    const stores = await open();
    try {
      const { access } = stores;
      await access.createUser({ name: 'ada', passwordHash: 'h', roles: [] }, T0);
      await access.createSession({ idHash: 'a'.repeat(64), userName: 'ada', expiresAtMs: T0 + 10_000 }, T0);
      assert.deepEqual(await access.getSession('a'.repeat(64)), {
        userName: 'ada',
        createdAtMs: T0,
        lastUsedAtMs: T0,
        expiresAtMs: T0 + 10_000,
        revokedAtMs: null,
      });
      await access.touchSession('a'.repeat(64), T0 + 500);
      await access.touchSession('a'.repeat(64), T0 + 100); // never moves back
      assert.equal((await access.getSession('a'.repeat(64)))?.lastUsedAtMs, T0 + 500);
      assert.equal(await access.revokeSession('a'.repeat(64), T0 + 600), true);
      assert.equal(await access.revokeSession('a'.repeat(64), T0 + 700), false);
      assert.equal((await access.getSession('a'.repeat(64)))?.revokedAtMs, T0 + 600);

      await access.createSession({ idHash: 'b'.repeat(64), userName: 'ada', expiresAtMs: T0 + 10_000 }, T0);
      assert.equal(await access.setUserDisabled('ada', true, T0 + 800), true);
      assert.equal((await access.getSession('b'.repeat(64)))?.revokedAtMs, T0 + 800);
      assert.equal((await access.getUser('ada'))?.disabledAt, new Date(T0 + 800).toISOString());
      assert.equal(await access.setUserDisabled('ada', false, T0 + 900), true);
      assert.equal((await access.getUser('ada'))?.disabledAt, null);
      assert.equal(await access.setUserDisabled('nobody', true, T0), false);
    } finally {
      await stores.close();
    }
  });

  it('keeps API tokens by hash with bindings, unique names per owner, revocation and last use', async () => {
    const stores = await open();
    try {
      const { access } = stores;
      await access.createUser({ name: 'ada', passwordHash: 'h', roles: [] }, T0);
      await access.createUser({ name: 'bob', passwordHash: 'h', roles: [] }, T0);
      const token = await access.createToken(
        {
          id: 'tok_1',
          name: 'ci',
          owner: 'ada',
          secretHash: '1'.repeat(64),
          expiresAtMs: T0 + 5000,
          roles: [scoped],
        },
        T0,
      );
      assert.deepEqual(token, {
        id: 'tok_1',
        name: 'ci',
        owner: 'ada',
        createdAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + 5000).toISOString(),
        revokedAt: null,
        lastUsedAt: null,
        roles: [scoped],
      });
      await assert.rejects(
        access.createToken(
          {
            id: 'tok_2',
            name: 'ci',
            owner: 'ada',
            secretHash: '2'.repeat(64),
            expiresAtMs: T0 + 5000,
            roles: [],
          },
          T0,
        ),
        ConflictError,
      );
      await access.createToken(
        {
          id: 'tok_3',
          name: 'ci',
          owner: 'bob',
          secretHash: '3'.repeat(64),
          expiresAtMs: T0 + 5000,
          roles: [],
        },
        T0 + 1,
      );
      assert.deepEqual(await access.getTokenByHash('1'.repeat(64)), token);
      assert.equal(await access.getTokenByHash('9'.repeat(64)), undefined);
      assert.deepEqual(
        (await access.listTokens(undefined)).map((t) => t.id),
        ['tok_3', 'tok_1'],
      );
      assert.deepEqual(
        (await access.listTokens('ada')).map((t) => t.id),
        ['tok_1'],
      );
      await access.touchToken('tok_1', T0 + 100);
      assert.equal((await access.getToken('tok_1'))?.lastUsedAt, new Date(T0 + 100).toISOString());
      assert.equal(await access.revokeToken('tok_1', T0 + 200), true);
      assert.equal(await access.revokeToken('tok_1', T0 + 300), false);
      assert.equal((await access.getToken('tok_1'))?.revokedAt, new Date(T0 + 200).toISOString());

      assert.equal(await access.deleteUser('bob'), true);
      assert.equal(await access.getToken('tok_3'), undefined, 'tokens go with their owner');
      assert.equal(await access.deleteUser('bob'), false);
    } finally {
      await stores.close();
    }
  });
}
