/** Login, logout, "who am I" and own password changes (docs/access-control.md). */
import { z } from 'zod';
import { whoAmISchema, type WhoAmI } from '../../access/access-schemas.ts';
import { isBoundPrincipal, type BoundPrincipal } from '../../access/bound-principal.ts';
import { permissions } from '../../access/permissions.ts';
import type { Principal } from '../../access/principal.ts';
import { toRoleBindingInput } from '../../access/role-bindings.ts';
import type { SessionService } from '../../access/session-service.ts';
import { ValidationError } from '../../infra/errors.ts';
import { PUBLIC, defineRoute, type ApiRoute } from '../route.ts';

/** The signed-in principal; access control switched off has no user to act for. */
export function signedIn(principal: Principal): BoundPrincipal {
  if (!isBoundPrincipal(principal))
    throw new ValidationError('access control is off (auth.enabled: false): there is no signed-in user');
  return principal;
}

export function whoAmI(principal: Principal): WhoAmI {
  const bound = isBoundPrincipal(principal) ? principal : undefined;
  return {
    actor: principal.actor,
    user: bound?.user ?? null,
    via: bound?.credential.kind ?? 'none',
    roles: bound?.bindings.map(toRoleBindingInput) ?? [],
    permissions: permissions.filter((permission) => principal.can(permission)),
  };
}

export function authRoutes(deps: { sessions: SessionService; sessionMaxS: number }): ApiRoute[] {
  const { sessions } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/auth/login',
      operationId: 'login',
      summary: 'Log in with a user name and password: sets the flotilla_session cookie and says who you are',
      tag: 'auth',
      permission: PUBLIC,
      body: z.strictObject({
        username: z.string().min(1).max(64),
        password: z.string().min(1).max(1024),
      }),
      response: whoAmISchema.extend({ expiresAt: z.string() }),
      errors: [400, 401, 429],
      handler: async ({ body, source, sessionCookie }) => {
        const login = await sessions.login(body.username, body.password, source);
        sessionCookie.set(login.sessionSecret, deps.sessionMaxS);
        const principal = await sessions.authenticate(login.sessionSecret);
        return { ...whoAmI(principal), expiresAt: new Date(login.expiresAtMs).toISOString() };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/auth/logout',
      operationId: 'logout',
      summary: 'End the current session (the cookie is cleared); with a token, only audited',
      tag: 'auth',
      permission: 'account:self',
      response: z.object({ loggedOut: z.literal(true) }),
      errors: [401],
      handler: async ({ principal, source, sessionCookie }) => {
        await sessions.logout(signedIn(principal), source);
        sessionCookie.clear();
        return { loggedOut: true as const };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/auth/me',
      operationId: 'whoAmI',
      summary: 'Who is calling: actor, roles with their device scopes, and every permission granted',
      tag: 'auth',
      permission: 'account:self',
      response: whoAmISchema,
      errors: [401],
      handler: ({ principal }) => Promise.resolve(whoAmI(principal)),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/auth/password',
      operationId: 'changeOwnPassword',
      summary: 'Change your own password (the current one is required)',
      tag: 'auth',
      permission: 'account:self',
      body: z.strictObject({
        currentPassword: z.string().min(1).max(1024),
        newPassword: z.string().min(1).max(1024),
      }),
      response: z.object({ changed: z.literal(true) }),
      errors: [400, 401, 429],
      handler: async ({ principal, body, source }) => {
        await sessions.changePassword(
          signedIn(principal),
          { current: body.currentPassword, next: body.newPassword },
          source,
        );
        return { changed: true as const };
      },
    }),
  ];
}
