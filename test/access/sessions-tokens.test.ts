/**
 * Sessions and API tokens through the services on a real store with an injected clock: idle and
 * absolute session expiry, revocation, token expiry and revocation, the no-escalation rule and
 * failed-login throttling with its audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BoundPrincipal } from '../../src/access/bound-principal.ts';
import {
  ForbiddenError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
} from '../../src/infra/errors.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { accessFixture, testLimits, type AccessFixture } from './access-fixture.ts';

const PASSWORD = 'a long enough password';
const files = tempDatabaseFiles('access-services');
const origin = { actor: 'user:root', source: '10.0.0.9' };

function rejectsWith(reason: string): (error: unknown) => boolean {
  return (error) => error instanceof UnauthorizedError && error.details?.['reason'] === reason;
}

describe('sessions and tokens', () => {
  let fx: AccessFixture;
  before(() => files.open());
  after(() => files.close());
  beforeEach(async () => {
    await fx?.stores.close();
    fx = await accessFixture(files.fresh());
    await fx.access.users.create(
      {
        name: 'ada',
        password: PASSWORD,
        roles: [{ role: 'operator', scope: { kind: 'query', where: 'region = "eu"' } }],
      },
      origin,
    );
  });
  after(() => fx.stores.close());

  async function login(): Promise<{ secret: string; principal: BoundPrincipal }> {
    const result = await fx.access.sessions.login('ada', PASSWORD, '10.0.0.1');
    return {
      secret: result.sessionSecret,
      principal: await fx.access.sessions.authenticate(result.sessionSecret),
    };
  }

  it('a session ends after the idle time without requests, each request extending it', async () => {
    const { secret, principal } = await login();
    assert.equal(principal.actor, 'user:ada');
    assert.equal(principal.can('devices:write'), true);
    assert.equal(principal.can('users:admin'), false);
    assert.deepEqual(principal.deviceScope('devices:write'), { kind: 'query', where: 'region = "eu"' });
    fx.time.advance((testLimits.sessionIdleS - 1) * 1000);
    await fx.access.sessions.authenticate(secret); // activity
    fx.time.advance((testLimits.sessionIdleS - 1) * 1000);
    await fx.access.sessions.authenticate(secret);
    fx.time.advance(testLimits.sessionIdleS * 1000);
    await assert.rejects(fx.access.sessions.authenticate(secret), rejectsWith('expired'));
  });

  it('a session ends at its absolute lifetime however active', async () => {
    const { secret } = await login();
    for (let elapsedS = 0; elapsedS + 500 < testLimits.sessionMaxS; elapsedS += 500) {
      fx.time.advance(500_000);
      await fx.access.sessions.authenticate(secret);
    }
    fx.time.advance(500_000);
    await assert.rejects(fx.access.sessions.authenticate(secret), rejectsWith('expired'));
  });

  it('logout revokes the session; an unknown cookie is refused', async () => {
    const { secret, principal } = await login();
    await fx.access.sessions.logout(principal, '10.0.0.1');
    await assert.rejects(fx.access.sessions.authenticate(secret), rejectsWith('revoked'));
    await assert.rejects(fx.access.sessions.authenticate('made-up'), rejectsWith('invalid'));
  });

  it('disabling a user ends its sessions and tokens', async () => {
    const { secret, principal } = await login();
    const { secret: token } = await fx.access.tokens.create(
      { name: 'ci', expiresInS: 3600, roles: undefined },
      principal,
      'local',
    );
    await fx.access.users.setDisabled('ada', true, origin);
    await assert.rejects(fx.access.sessions.authenticate(secret), rejectsWith('revoked'));
    await assert.rejects(fx.access.tokens.authenticate(token), rejectsWith('revoked'));
    await assert.rejects(fx.access.sessions.login('ada', PASSWORD, '10.0.0.1'), UnauthorizedError);
  });

  it('a token expires at its expiry, can be revoked, and its secret is never stored', async () => {
    const { principal } = await login();
    const created = await fx.access.tokens.create(
      { name: 'ci', expiresInS: 120, roles: undefined },
      principal,
      'local',
    );
    const authenticated = await fx.access.tokens.authenticate(created.secret);
    assert.equal(authenticated.actor, 'token:ada/ci');
    assert.deepEqual(authenticated.deviceScope('devices:write'), { kind: 'query', where: 'region = "eu"' });
    assert.notEqual((await fx.access.tokens.list(principal, undefined))[0]?.lastUsedAt, null);
    fx.time.advance(120_000);
    await assert.rejects(fx.access.tokens.authenticate(created.secret), rejectsWith('expired'));

    const second = await fx.access.tokens.create(
      { name: 'ci-2', expiresInS: 120, roles: undefined },
      principal,
      'local',
    );
    await fx.access.tokens.revoke(second.token.id, principal, 'local');
    await assert.rejects(fx.access.tokens.authenticate(second.secret), rejectsWith('revoked'));
    await assert.rejects(fx.access.tokens.authenticate('flt_' + 'A'.repeat(43)), rejectsWith('invalid'));
  });

  it('a token lifetime is capped, and its roles may not exceed its creator’s', async () => {
    const { principal } = await login();
    await assert.rejects(
      fx.access.tokens.create(
        { name: 'long', expiresInS: testLimits.tokenMaxLifetimeS + 1, roles: undefined },
        principal,
        'local',
      ),
      ValidationError,
    );
    await assert.rejects(
      fx.access.tokens.create(
        { name: 'admin', expiresInS: 60, roles: [{ role: 'admin', scope: { kind: 'all' } }] },
        principal,
        'local',
      ),
      (error: unknown) => error instanceof ForbiddenError && /users:admin/.test(error.message),
    );
    await assert.rejects(
      fx.access.tokens.create(
        { name: 'wider', expiresInS: 60, roles: [{ role: 'operator', scope: { kind: 'all' } }] },
        principal,
        'local',
      ),
      (error: unknown) => error instanceof ForbiddenError && /beyond region = "eu"/.test(error.message),
    );
    const viewer = await fx.access.tokens.create(
      {
        name: 'viewer',
        expiresInS: 60,
        roles: [{ role: 'viewer', scope: { kind: 'query', where: 'region = "eu"' } }],
      },
      principal,
      'local',
    );
    assert.equal((await fx.access.tokens.authenticate(viewer.secret)).can('devices:write'), false);
  });

  it('a token loses what its owner loses later', async () => {
    const { principal } = await login();
    const created = await fx.access.tokens.create(
      { name: 'ci', expiresInS: 600, roles: undefined },
      principal,
      'local',
    );
    await fx.access.users.setRoles('ada', [{ role: 'viewer', scope: { kind: 'all' } }], origin);
    const token = await fx.access.tokens.authenticate(created.secret);
    assert.equal(token.can('devices:write'), false);
    assert.equal(token.can('devices:read'), true);
  });

  it('throttles failed logins per user, audits them, and lets the right password in after the lock', async () => {
    for (let i = 0; i < 5; i++)
      await assert.rejects(
        fx.access.sessions.login('ada', 'wrong password!!', '10.0.0.2'),
        UnauthorizedError,
      );
    await assert.rejects(
      fx.access.sessions.login('ada', PASSWORD, '10.0.0.3'),
      (error: unknown) => error instanceof RateLimitedError && error.details?.['retryAfterS'] === 30,
    );
    fx.time.advance(30_000);
    await fx.access.sessions.login('ada', PASSWORD, '10.0.0.3');
    await assert.rejects(fx.access.sessions.login('nobody', PASSWORD, '10.0.0.4'), UnauthorizedError);
    const audit = await fx.audit();
    assert.equal(audit.filter((line) => line === 'auth.login_failed ada user:ada').length, 5);
    assert.ok(audit.includes('auth.login_locked ada user:ada'));
    assert.ok(audit.includes('auth.login ada user:ada'));
    assert.ok(audit.includes('auth.login_failed nobody user:nobody'));
  });
});
