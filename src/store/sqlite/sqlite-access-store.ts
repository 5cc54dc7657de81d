/** Users, sessions, API tokens and role bindings on the shared better-sqlite3 handle. */
import type Database from 'better-sqlite3';
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
import { runSync } from './sqlite-errors.ts';

interface UserRow {
  name: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
}

interface TokenRow {
  id: string;
  name: string;
  owner: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

const tokenColumns = 'id, name, owner, created_at, expires_at, revoked_at, last_used_at';
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

const toUser = (row: UserRow, roles: RoleBinding[]): User => ({
  name: row.name,
  createdAt: isoTime(row.created_at),
  disabledAt: isoOrNull(row.disabled_at),
  roles,
});

const toToken = (row: TokenRow, roles: RoleBinding[]): ApiToken => ({
  id: row.id,
  name: row.name,
  owner: row.owner,
  createdAt: isoTime(row.created_at),
  expiresAt: isoTime(row.expires_at),
  revokedAt: isoOrNull(row.revoked_at),
  lastUsedAt: isoOrNull(row.last_used_at),
  roles,
});

function isUniqueViolation(error: unknown): boolean {
  return (
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

export class SqliteAccessStore implements AccessStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  #bindings(column: 'user_name' | 'token_id', subject: string | undefined): Map<string, RoleBinding[]> {
    const where = subject === undefined ? `${column} IS NOT NULL` : `${column} = ?`;
    const rows = this.#db
      .prepare<unknown[], BindingRow>(
        `SELECT user_name, token_id, role, scope FROM role_bindings WHERE ${where} ORDER BY id`,
      )
      .all(...(subject === undefined ? [] : [subject]));
    return bindingsBy(rows, column);
  }

  #insertBindings(column: 'user_name' | 'token_id', subject: string, roles: RoleBinding[]): void {
    const insert = this.#db.prepare(`INSERT INTO role_bindings (${column}, role, scope) VALUES (?, ?, ?)`);
    for (const binding of roles) insert.run(subject, binding.role, scopeColumn(binding.scope));
  }

  createUser(
    user: { name: string; passwordHash: string; roles: RoleBinding[] },
    nowMs: number,
  ): Promise<User> {
    return runSync(this.#db, () =>
      this.#db.transaction(() => {
        const row = this.#db
          .prepare<[string, string, number], UserRow>(
            `INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)
             ON CONFLICT (name) DO NOTHING RETURNING name, password_hash, created_at, disabled_at`,
          )
          .get(user.name, user.passwordHash, nowMs);
        if (row === undefined)
          throw new ConflictError(`user ${user.name} already exists`, { name: user.name });
        this.#insertBindings('user_name', user.name, user.roles);
        return toUser(row, user.roles);
      })(),
    );
  }

  getUser(name: string): Promise<UserRecord | undefined> {
    return runSync(this.#db, () => {
      const row = this.#db
        .prepare<[string], UserRow>(
          'SELECT name, password_hash, created_at, disabled_at FROM users WHERE name = ?',
        )
        .get(name);
      if (row === undefined) return undefined;
      return {
        ...toUser(row, this.#bindings('user_name', name).get(name) ?? []),
        passwordHash: row.password_hash,
      };
    });
  }

  listUsers(): Promise<User[]> {
    return runSync(this.#db, () => {
      const bindings = this.#bindings('user_name', undefined);
      return this.#db
        .prepare<[], UserRow>('SELECT name, password_hash, created_at, disabled_at FROM users ORDER BY name')
        .all()
        .map((row) => toUser(row, bindings.get(row.name) ?? []));
    });
  }

  countUsers(): Promise<number> {
    return runSync(
      this.#db,
      () => this.#db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users').get()?.n ?? 0,
    );
  }

  setUserRoles(name: string, roles: RoleBinding[]): Promise<boolean> {
    return runSync(this.#db, () =>
      this.#db.transaction(() => {
        const exists = this.#db.prepare('SELECT 1 FROM users WHERE name = ?').get(name) !== undefined;
        if (!exists) return false;
        this.#db.prepare('DELETE FROM role_bindings WHERE user_name = ?').run(name);
        this.#insertBindings('user_name', name, roles);
        return true;
      })(),
    );
  }

  setUserDisabled(name: string, disabled: boolean, nowMs: number): Promise<boolean> {
    return runSync(this.#db, () =>
      this.#db.transaction(() => {
        const changed = this.#db
          .prepare('UPDATE users SET disabled_at = ? WHERE name = ?')
          .run(disabled ? nowMs : null, name).changes;
        if (changed === 0) return false;
        if (disabled) {
          this.#db
            .prepare('UPDATE sessions SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL')
            .run(nowMs, name);
          this.#db
            .prepare('UPDATE api_tokens SET revoked_at = ? WHERE owner = ? AND revoked_at IS NULL')
            .run(nowMs, name);
        }
        return true;
      })(),
    );
  }

  setPasswordHash(name: string, passwordHash: string): Promise<boolean> {
    return runSync(
      this.#db,
      () =>
        this.#db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(passwordHash, name)
          .changes > 0,
    );
  }

  deleteUser(name: string): Promise<boolean> {
    return runSync(
      this.#db,
      () => this.#db.prepare('DELETE FROM users WHERE name = ?').run(name).changes > 0,
    );
  }

  createSession(
    session: { idHash: string; userName: string; expiresAtMs: number },
    nowMs: number,
  ): Promise<void> {
    return runSync(this.#db, () => {
      this.#db
        .prepare(
          'INSERT INTO sessions (id_hash, user_name, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(session.idHash, session.userName, nowMs, nowMs, session.expiresAtMs);
    });
  }

  getSession(idHash: string): Promise<SessionRecord | undefined> {
    return runSync(this.#db, () => {
      const row = this.#db
        .prepare<
          [string],
          {
            user_name: string;
            created_at: number;
            last_used_at: number;
            expires_at: number;
            revoked_at: number | null;
          }
        >(
          'SELECT user_name, created_at, last_used_at, expires_at, revoked_at FROM sessions WHERE id_hash = ?',
        )
        .get(idHash);
      return row === undefined
        ? undefined
        : {
            userName: row.user_name,
            createdAtMs: row.created_at,
            lastUsedAtMs: row.last_used_at,
            expiresAtMs: row.expires_at,
            revokedAtMs: row.revoked_at,
          };
    });
  }

  touchSession(idHash: string, nowMs: number): Promise<void> {
    return runSync(this.#db, () => {
      this.#db
        .prepare('UPDATE sessions SET last_used_at = max(last_used_at, ?) WHERE id_hash = ?')
        .run(nowMs, idHash);
    });
  }

  revokeSession(idHash: string, nowMs: number): Promise<boolean> {
    return runSync(
      this.#db,
      () =>
        this.#db
          .prepare('UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL')
          .run(nowMs, idHash).changes > 0,
    );
  }

  createToken(token: NewApiToken, nowMs: number): Promise<ApiToken> {
    return runSync(this.#db, () =>
      this.#db.transaction(() => {
        let row: TokenRow | undefined;
        try {
          row = this.#db
            .prepare<[string, string, string, string, number, number], TokenRow>(
              `INSERT INTO api_tokens (id, secret_hash, name, owner, created_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING ${tokenColumns}`,
            )
            .get(token.id, token.secretHash, token.name, token.owner, nowMs, token.expiresAtMs);
        } catch (error) {
          if (isUniqueViolation(error))
            throw new ConflictError(`${token.owner} already has a token named ${token.name}`, {
              name: token.name,
            });
          throw error;
        }
        if (row === undefined) throw new Error('token insert returned no row');
        this.#insertBindings('token_id', token.id, token.roles);
        return toToken(row, token.roles);
      })(),
    );
  }

  #tokenWhere(where: string, params: unknown[]): ApiToken[] {
    const rows = this.#db
      .prepare<unknown[], TokenRow>(`SELECT ${tokenColumns} FROM api_tokens WHERE ${where}`)
      .all(...params);
    return rows.map((row) => toToken(row, this.#bindings('token_id', row.id).get(row.id) ?? []));
  }

  getToken(id: string): Promise<ApiToken | undefined> {
    return runSync(this.#db, () => this.#tokenWhere('id = ?', [id])[0]);
  }

  getTokenByHash(secretHash: string): Promise<ApiToken | undefined> {
    return runSync(this.#db, () => this.#tokenWhere('secret_hash = ?', [secretHash])[0]);
  }

  listTokens(owner: string | undefined): Promise<ApiToken[]> {
    return runSync(this.#db, () =>
      owner === undefined
        ? this.#tokenWhere('1 = 1 ORDER BY created_at DESC, id', [])
        : this.#tokenWhere('owner = ? ORDER BY created_at DESC, id', [owner]),
    );
  }

  revokeToken(id: string, nowMs: number): Promise<boolean> {
    return runSync(
      this.#db,
      () =>
        this.#db
          .prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
          .run(nowMs, id).changes > 0,
    );
  }

  touchToken(id: string, nowMs: number): Promise<void> {
    return runSync(this.#db, () => {
      this.#db
        .prepare('UPDATE api_tokens SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?')
        .run(nowMs, id);
    });
  }
}
