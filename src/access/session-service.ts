/**
 * Password login and browser sessions. A login checks the throttles first (per user and per
 * source), verifies the scrypt hash — against a dummy hash for unknown users, so both cost the
 * same — and creates a session whose secret goes to the cookie while only its SHA-256 is stored.
 * A session ends after `sessionIdleS` without requests or `sessionMaxS` after login.
 */
import { RateLimitedError, UnauthorizedError } from '../infra/errors.ts';
import type { AuditOrigin } from '../store/provisioning-types.ts';
import type { User } from '../store/access-types.ts';
import { auditWith, type AccessDeps } from './access-deps.ts';
import { boundPrincipal, type BoundPrincipal } from './bound-principal.ts';
import { LoginThrottle, sourceThrottleLimits, userThrottleLimits } from './login-throttle.ts';
import {
  checkPasswordStrength,
  dummyPasswordHash,
  hashPassword,
  needsRehash,
  verifyPassword,
} from './passwords.ts';
import { newSessionSecret, secretHash } from './secrets.ts';

export interface LoginResult {
  user: User;
  /** The cookie value; shown to nobody else and never stored. */
  sessionSecret: string;
  expiresAtMs: number;
}

export const userActor = (name: string): string => `user:${name}`;

export function createSessionService(deps: AccessDeps) {
  const { store, clock, limits } = deps;
  const users = new LoginThrottle(clock, userThrottleLimits);
  const sources = new LoginThrottle(clock, sourceThrottleLimits);

  function refuseWhileLocked(username: string, source: string): void {
    const waitMs = Math.max(users.retryAfterMs(`user:${username}`), sources.retryAfterMs(source));
    if (waitMs > 0) {
      const retryAfterS = Math.ceil(waitMs / 1000);
      throw new RateLimitedError(`too many failed logins: try again in ${retryAfterS} s`, { retryAfterS });
    }
  }

  async function failed(username: string, origin: AuditOrigin, reason: string): Promise<never> {
    const userLockMs = users.fail(`user:${username}`);
    const sourceLockMs = sources.fail(origin.source);
    await auditWith(deps, origin, 'auth.login_failed', username, { reason });
    if (userLockMs > 0 || sourceLockMs > 0) {
      await auditWith(deps, origin, 'auth.login_locked', username, {
        userLockS: userLockMs / 1000,
        sourceLockS: sourceLockMs / 1000,
      });
    }
    throw new UnauthorizedError('wrong user name or password', { reason: 'bad_credentials' });
  }

  return {
    /** UnauthorizedError for wrong credentials or a disabled user; RateLimitedError while locked. */
    async login(username: string, password: string, source: string): Promise<LoginResult> {
      const origin = { actor: userActor(username), source };
      refuseWhileLocked(username, source);
      const record = await store.getUser(username);
      const matches = await verifyPassword(password, record?.passwordHash ?? (await dummyPasswordHash()));
      if (record === undefined) return failed(username, origin, 'unknown_user');
      if (!matches) return failed(username, origin, 'wrong_password');
      if (record.disabledAt !== null) return failed(username, origin, 'user_disabled');
      users.succeed(`user:${username}`);
      if (needsRehash(record.passwordHash))
        await store.setPasswordHash(username, await hashPassword(password));
      const sessionSecret = newSessionSecret();
      const now = clock.now();
      const expiresAtMs = now + limits.sessionMaxS * 1000;
      await store.createSession({ idHash: secretHash(sessionSecret), userName: username, expiresAtMs }, now);
      await auditWith(deps, origin, 'auth.login', username);
      return {
        user: {
          name: record.name,
          createdAt: record.createdAt,
          disabledAt: record.disabledAt,
          roles: record.roles,
        },
        sessionSecret,
        expiresAtMs,
      };
    },

    /** The principal of a session cookie; UnauthorizedError saying why it is no longer valid. */
    async authenticate(sessionSecret: string): Promise<BoundPrincipal> {
      const idHash = secretHash(sessionSecret);
      const session = await store.getSession(idHash);
      const now = clock.now();
      if (session === undefined)
        throw new UnauthorizedError('unknown session: log in again', { reason: 'invalid' });
      if (session.revokedAtMs !== null)
        throw new UnauthorizedError('session revoked: log in again', { reason: 'revoked' });
      if (now >= session.expiresAtMs || now >= session.lastUsedAtMs + limits.sessionIdleS * 1000)
        throw new UnauthorizedError('session expired: log in again', { reason: 'expired' });
      const user = await store.getUser(session.userName);
      if (user === undefined || user.disabledAt !== null)
        throw new UnauthorizedError('session revoked: log in again', { reason: 'revoked' });
      await store.touchSession(idHash, now);
      return boundPrincipal({
        actor: userActor(user.name),
        user: user.name,
        credential: { kind: 'session', idHash },
        bindings: user.roles,
      });
    },

    async logout(principal: BoundPrincipal, source: string): Promise<void> {
      if (principal.credential.kind === 'session')
        await store.revokeSession(principal.credential.idHash, clock.now());
      await auditWith(deps, { actor: principal.actor, source }, 'auth.logout', principal.user);
    },

    /** A user changing their own password: the current one is checked (throttled like a login). */
    async changePassword(
      principal: BoundPrincipal,
      passwords: { current: string; next: string },
      source: string,
    ): Promise<void> {
      checkPasswordStrength(passwords.next, 'newPassword');
      refuseWhileLocked(principal.user, source);
      const record = await store.getUser(principal.user);
      const origin = { actor: principal.actor, source };
      if (record === undefined || !(await verifyPassword(passwords.current, record.passwordHash)))
        return failed(principal.user, origin, 'wrong_password');
      await store.setPasswordHash(principal.user, await hashPassword(passwords.next));
      await auditWith(deps, origin, 'user.password_changed', principal.user);
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
