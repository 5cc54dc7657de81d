/** Users, sessions, API tokens and role bindings on the shared pg pool. */
import type pg from 'pg';
import { isoTime } from '../../infra/clock.ts';
import { ConflictError } from '../../infra/errors.ts';
import type {
  AccessStore,
  ApiToken,
  NewApiToken,
  RoleBinding,
  SessionRecord,
  User,
  UserRecord,
} from '../access-types.ts';
import { bindingsBy, scopeColumn, type BindingRow } from '../access-rows.ts';
import { uniqueViolation } from './pg-pool.ts';
import type { PgSession } from './pg-session.ts';

interface UserRow {
  name: string;
  password_hash: string;
  created_at: Date;
  disabled_at: Date | null;
}

interface TokenRow {
  id: string;
  name: string;
  owner: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

const tokenColumns = 'id, name, owner, created_at, expires_at, revoked_at, last_used_at';
const isoOrNull = (at: Date | null): string | null => (at === null ? null : isoTime(at.getTime()));

const toUser = (row: UserRow, roles: RoleBinding[]): User => ({
  name: row.name,
  createdAt: isoTime(row.created_at.getTime()),
  disabledAt: isoOrNull(row.disabled_at),
  roles,
});

const toToken = (row: TokenRow, roles: RoleBinding[]): ApiToken => ({
  id: row.id,
  name: row.name,
  owner: row.owner,
  createdAt: isoTime(row.created_at.getTime()),
  expiresAt: isoTime(row.expires_at.getTime()),
  revokedAt: isoOrNull(row.revoked_at),
  lastUsedAt: isoOrNull(row.last_used_at),
  roles,
});

async function insertBindings(
  db: Queryable,
  column: 'user_name' | 'token_id',
  subject: string,
  roles: RoleBinding[],
): Promise<void> {
  for (const binding of roles) {
    await db.query(`INSERT INTO role_bindings (${column}, role, scope) VALUES ($1, $2, $3)`, [
      subject,
      binding.role,
      scopeColumn(binding.scope),
    ]);
  }
}

export class PostgresAccessStore implements AccessStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async #bindings(
    column: 'user_name' | 'token_id',
    subjects: string[] | undefined,
  ): Promise<Map<string, RoleBinding[]>> {
    const result =
      subjects === undefined
        ? await this.#session.query<BindingRow>(
            `SELECT user_name, token_id, role, scope FROM role_bindings WHERE ${column} IS NOT NULL ORDER BY id`,
            [],
          )
        : await this.#session.query<BindingRow>(
            `SELECT user_name, token_id, role, scope FROM role_bindings WHERE ${column} = ANY($1) ORDER BY id`,
            [subjects],
          );
    return bindingsBy(result.rows, column);
  }

  async createUser(
    user: { name: string; passwordHash: string; roles: RoleBinding[] },
    nowMs: number,
  ): Promise<User> {
    return this.#session.transaction(async (client) => {
      const result = await client.query<UserRow>(
        `INSERT INTO users (name, password_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING name, password_hash, created_at, disabled_at`,
        [user.name, user.passwordHash, new Date(nowMs)],
      );
      const row = result.rows[0];
      if (row === undefined) throw new ConflictError(`user ${user.name} already exists`, { name: user.name });
      await insertBindings(client, 'user_name', user.name, user.roles);
      return toUser(row, user.roles);
    });
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const result = await this.#session.query<UserRow>(
      'SELECT name, password_hash, created_at, disabled_at FROM users WHERE name = $1',
      [name],
    );
    const row = result.rows[0];
    if (row === undefined) return undefined;
    const roles = (await this.#bindings('user_name', [name])).get(name) ?? [];
    return { ...toUser(row, roles), passwordHash: row.password_hash };
  }

  async listUsers(): Promise<User[]> {
    const result = await this.#session.query<UserRow>(
      'SELECT name, password_hash, created_at, disabled_at FROM users ORDER BY name',
      [],
    );
    const bindings = await this.#bindings('user_name', undefined);
    return result.rows.map((row) => toUser(row, bindings.get(row.name) ?? []));
  }

  async countUsers(): Promise<number> {
    const result = await this.#session.query<{ n: number }>('SELECT count(*)::int AS n FROM users', []);
    return result.rows[0]?.n ?? 0;
  }

  async setUserRoles(name: string, roles: RoleBinding[]): Promise<boolean> {
    return this.#session.transaction(async (client) => {
      const exists = await client.query('SELECT 1 FROM users WHERE name = $1 FOR UPDATE', [name]);
      if (exists.rowCount === 0) return false;
      await client.query('DELETE FROM role_bindings WHERE user_name = $1', [name]);
      await insertBindings(client, 'user_name', name, roles);
      return true;
    });
  }

  async setUserDisabled(name: string, disabled: boolean, nowMs: number): Promise<boolean> {
    const at = new Date(nowMs);
    return this.#session.transaction(async (client) => {
      const changed = await client.query('UPDATE users SET disabled_at = $1 WHERE name = $2', [
        disabled ? at : null,
        name,
      ]);
      if (changed.rowCount === 0) return false;
      if (disabled) {
        await client.query(
          'UPDATE sessions SET revoked_at = $1 WHERE user_name = $2 AND revoked_at IS NULL',
          [at, name],
        );
        await client.query('UPDATE api_tokens SET revoked_at = $1 WHERE owner = $2 AND revoked_at IS NULL', [
          at,
          name,
        ]);
      }
      return true;
    });
  }

  async setPasswordHash(name: string, passwordHash: string): Promise<boolean> {
    const result = await this.#session.query('UPDATE users SET password_hash = $1 WHERE name = $2', [
      passwordHash,
      name,
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async deleteUser(name: string): Promise<boolean> {
    const result = await this.#session.query('DELETE FROM users WHERE name = $1', [name]);
    return (result.rowCount ?? 0) > 0;
  }

  async createSession(
    session: { idHash: string; userName: string; expiresAtMs: number },
    nowMs: number,
  ): Promise<void> {
    await this.#session.query(
      'INSERT INTO sessions (id_hash, user_name, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4)',
      [session.idHash, session.userName, new Date(nowMs), new Date(session.expiresAtMs)],
    );
  }

  async getSession(idHash: string): Promise<SessionRecord | undefined> {
    const result = await this.#session.query<{
      user_name: string;
      created_at: Date;
      last_used_at: Date;
      expires_at: Date;
      revoked_at: Date | null;
    }>(
      'SELECT user_name, created_at, last_used_at, expires_at, revoked_at FROM sessions WHERE id_hash = $1',
      [idHash],
    );
    const row = result.rows[0];
    return row === undefined
      ? undefined
      : {
          userName: row.user_name,
          createdAtMs: row.created_at.getTime(),
          lastUsedAtMs: row.last_used_at.getTime(),
          expiresAtMs: row.expires_at.getTime(),
          revokedAtMs: row.revoked_at === null ? null : row.revoked_at.getTime(),
        };
  }

  async touchSession(idHash: string, nowMs: number): Promise<void> {
    await this.#session.query(
      'UPDATE sessions SET last_used_at = greatest(last_used_at, $1) WHERE id_hash = $2',
      [new Date(nowMs), idHash],
    );
  }

  async revokeSession(idHash: string, nowMs: number): Promise<boolean> {
    const result = await this.#session.query(
      'UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL',
      [new Date(nowMs), idHash],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async createToken(token: NewApiToken, nowMs: number): Promise<ApiToken> {
    try {
      return await this.#session.transaction(async (client) => {
        const result = await client.query<TokenRow>(
          `INSERT INTO api_tokens (id, secret_hash, name, owner, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${tokenColumns}`,
          [token.id, token.secretHash, token.name, token.owner, new Date(nowMs), new Date(token.expiresAtMs)],
        );
        const row = result.rows[0];
        if (row === undefined) throw new Error('token insert returned no row');
        await insertBindings(client, 'token_id', token.id, token.roles);
        return toToken(row, token.roles);
      });
    } catch (error) {
      if (uniqueViolation(error) !== undefined)
        throw new ConflictError(`${token.owner} already has a token named ${token.name}`, {
          name: token.name,
        });
      throw error;
    }
  }

  async #tokensWhere(where: string, params: unknown[]): Promise<ApiToken[]> {
    const result = await this.#session.query<TokenRow>(
      `SELECT ${tokenColumns} FROM api_tokens WHERE ${where}`,
      params,
    );
    const bindings = await this.#bindings(
      'token_id',
      result.rows.map((row) => row.id),
    );
    return result.rows.map((row) => toToken(row, bindings.get(row.id) ?? []));
  }

  async getToken(id: string): Promise<ApiToken | undefined> {
    return (await this.#tokensWhere('id = $1', [id]))[0];
  }

  async getTokenByHash(secretHash: string): Promise<ApiToken | undefined> {
    return (await this.#tokensWhere('secret_hash = $1', [secretHash]))[0];
  }

  listTokens(owner: string | undefined): Promise<ApiToken[]> {
    return owner === undefined
      ? this.#tokensWhere('true ORDER BY created_at DESC, id', [])
      : this.#tokensWhere('owner = $1 ORDER BY created_at DESC, id', [owner]);
  }

  async revokeToken(id: string, nowMs: number): Promise<boolean> {
    const result = await this.#session.query(
      'UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
      [new Date(nowMs), id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async touchToken(id: string, nowMs: number): Promise<void> {
    await this.#session.query(
      'UPDATE api_tokens SET last_used_at = greatest(last_used_at, $1) WHERE id = $2',
      [new Date(nowMs), id],
    );
  }
}
