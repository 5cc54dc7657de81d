/**
 * A real server with access control on, its clock shiftable (session and token expiry over real
 * HTTP), the first admin logged in, and helpers to log in, create users and tokens.
 */
import assert from 'node:assert/strict';
import type { Role } from '../../src/access/permissions.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

export const ADMIN_PASSWORD = 'matrix admin password';
export const USER_PASSWORD = 'matrix user password';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export interface AuthServer {
  fx: ServerFixture;
  base: string;
  /** Moves the server's clock forward (expiry) without waiting. */
  shiftClock(ms: number): void;
  /** A request with `credential`: a token (Bearer), a cookie header, or none. */
  call(
    method: string,
    path: string,
    options?: { token?: string; cookie?: string; body?: unknown },
  ): Promise<HttpAnswer>;
  /** Logs in and returns the `flotilla_session=…` cookie. */
  login(username: string, password: string): Promise<string>;
  /** Creates a user with `role` (on every device, or on `where`) and returns a token of its own. */
  userWithToken(name: string, role: Role, where?: string): Promise<string>;
  adminCookie: string;
}

export async function startAuthServer(overrides: Record<string, unknown> = {}): Promise<AuthServer> {
  let offsetMs = 0;
  const fx = await createServerFixture(
    { auth: { enabled: true, ...overrides } },
    { clock: { now: () => Date.now() + offsetMs }, adminPassword: ADMIN_PASSWORD },
  );
  const base = `http://127.0.0.1:${fx.httpPort}`;

  const call: AuthServer['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.cookie !== undefined) headers['cookie'] = options.cookie;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: response.status, body, headers: response.headers };
  };

  const login = async (username: string, password: string): Promise<string> => {
    const answer = await call('POST', '/api/v1/auth/login', { body: { username, password } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const cookie = /^(flotilla_session=[^;]+)/.exec(answer.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(cookie, 'login sets the session cookie');
    return cookie;
  };

  const adminCookie = await login('admin', ADMIN_PASSWORD);
  // The groups role scopes refer to (a scope's query is checked when it is granted).
  for (const region of ['eu-west', 'us-east']) {
    const group = await call('POST', '/api/v1/groups', {
      cookie: adminCookie,
      body: { name: region, query: `region = "${region}"` },
    });
    assert.equal(group.status, 201, JSON.stringify(group.body));
  }
  return {
    fx,
    base,
    shiftClock: (ms) => {
      offsetMs += ms;
    },
    call,
    login,
    adminCookie,
    async userWithToken(name, role, where) {
      // A fresh admin session: tests may have moved the clock past the first one.
      const created = await call('POST', '/api/v1/users', {
        cookie: await login('admin', ADMIN_PASSWORD),
        body: { name, password: USER_PASSWORD, roles: [{ role, ...(where === undefined ? {} : { where }) }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const cookie = await login(name, USER_PASSWORD);
      const token = await call('POST', '/api/v1/tokens', {
        cookie,
        body: { name: 'matrix', expiresInS: 3600 },
      });
      assert.equal(token.status, 201, JSON.stringify(token.body));
      return String(token.body['secret']);
    },
  };
}
