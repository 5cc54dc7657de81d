/**
 * Authentication over real HTTP: the cookie login flow, 401 saying expired or revoked for tokens
 * and sessions (the server's clock is shifted, nothing sleeps), the first admin's password file,
 * confirmation for removing an admin, and /metrics behind system:read when configured.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, USER_PASSWORD, startAuthServer, type AuthServer } from './auth-server.ts';

const errorOf = (body: Record<string, unknown>) =>
  body['error'] as { code: string; message: string; details?: Record<string, unknown> };

describe('authentication over HTTP', () => {
  let server: AuthServer;
  before(async () => {
    server = await startAuthServer({ metricsPublic: false });
  });
  after(() => server.fx.close());

  it('writes the first admin password to a 0600 file', async () => {
    const file = join(server.fx.dataDir, 'initial-admin-password');
    assert.equal((await readFile(file, 'utf8')).trim(), ADMIN_PASSWORD);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(server.fx.server().initialAdmin?.passwordFile, file);
  });

  it('logs in with a cookie (HttpOnly, SameSite=Strict), says who, and logs out', async () => {
    const login = await server.call('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    assert.equal(login.status, 200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(
      setCookie,
      /^flotilla_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; HttpOnly; SameSite=Strict; Path=\/$/,
    );
    assert.equal(login.body['actor'], 'user:admin');
    const cookie = setCookie.split(';')[0] ?? '';
    const me = await server.call('GET', '/api/v1/auth/me', { cookie });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body['roles'], [{ role: 'admin' }]);
    assert.ok((me.body['permissions'] as string[]).includes('users:admin'));
    const logout = await server.call('POST', '/api/v1/auth/logout', { cookie });
    assert.equal(logout.status, 200);
    assert.match(logout.headers.get('set-cookie') ?? '', /^flotilla_session=; Max-Age=0/);
    const after = await server.call('GET', '/api/v1/auth/me', { cookie });
    assert.equal(after.status, 401);
    assert.equal(errorOf(after.body).message, 'session revoked: log in again');

    const wrong = await server.call('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: 'not the password' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
  });

  it('answers 401 saying whether a token is unknown, revoked or expired', async () => {
    const token = await server.userWithToken('tina', 'viewer');
    assert.equal((await server.call('GET', '/api/v1/devices', { token })).status, 200);
    const unknown = await server.call('GET', '/api/v1/devices', { token: `flt_${'x'.repeat(43)}` });
    assert.equal(unknown.status, 401);
    assert.equal(errorOf(unknown.body).message, 'unknown API token');

    const cookie = await server.login('tina', USER_PASSWORD);
    const created = await server.call('POST', '/api/v1/tokens', {
      cookie,
      body: { name: 'short', expiresInS: 60 },
    });
    const secret = String(created.body['secret']);
    const id = String((created.body['token'] as { id: string }).id);
    assert.equal((await server.call('GET', '/api/v1/devices', { token: secret })).status, 200);
    const revoked = await server.call('POST', `/api/v1/tokens/${id}/revoke`, { cookie });
    assert.equal(revoked.status, 200);
    const afterRevoke = await server.call('GET', '/api/v1/devices', { token: secret });
    assert.equal(afterRevoke.status, 401);
    assert.equal(errorOf(afterRevoke.body).message, 'API token revoked');

    const later = await server.call('POST', '/api/v1/tokens', {
      cookie,
      body: { name: 'later', expiresInS: 60 },
    });
    server.shiftClock(61_000);
    const expired = await server.call('GET', '/api/v1/devices', { token: String(later.body['secret']) });
    assert.equal(expired.status, 401);
    assert.equal(errorOf(expired.body).message, 'API token expired');
  });

  it('answers 401 for an expired session', async () => {
    const cookie = await server.login('admin', ADMIN_PASSWORD);
    server.shiftClock((server.fx.server().config.auth.sessionIdleS + 1) * 1000);
    const answer = await server.call('GET', '/api/v1/auth/me', { cookie });
    assert.equal(answer.status, 401);
    assert.equal(errorOf(answer.body).message, 'session expired: log in again');
  });

  it('needs confirm to delete or disable an admin, and never removes the last one', async () => {
    const cookie = await server.login('admin', ADMIN_PASSWORD);
    await server.call('POST', '/api/v1/users', {
      cookie,
      body: { name: 'second-admin', password: USER_PASSWORD, roles: [{ role: 'admin' }] },
    });
    const unconfirmed = await server.call('DELETE', '/api/v1/users/second-admin', { cookie });
    assert.equal(unconfirmed.status, 428);
    assert.equal(errorOf(unconfirmed.body).code, 'confirmation_required');
    assert.equal(
      (await server.call('DELETE', '/api/v1/users/second-admin?confirm=true', { cookie })).status,
      200,
    );
    const last = await server.call('POST', '/api/v1/users/admin/disable', {
      cookie,
      body: { confirm: true },
    });
    assert.equal(last.status, 409);
    const audit = await server.call('GET', '/api/v1/audit?target=second-admin', { cookie });
    assert.deepEqual(
      (audit.body['items'] as Array<{ action: string; actor: string }>).map((e) => `${e.action} ${e.actor}`),
      ['user.deleted user:admin', 'user.created user:admin'],
    );
  });

  it('serves /metrics only with system:read when metricsPublic is false', async () => {
    assert.equal((await server.call('GET', '/metrics')).status, 401);
    const token = await server.userWithToken('prometheus', 'viewer');
    assert.equal((await server.call('GET', '/metrics', { token })).status, 200);
    assert.equal((await server.call('GET', '/healthz')).status, 200);
  });
});
