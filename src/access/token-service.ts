/**
 * API tokens: `flt_` + 32 random bytes, shown once at creation; only the SHA-256 is stored. A token
 * always expires (at most `tokenMaxLifetimeS` after creation) and never grants more than whoever
 * created it holds — checked at creation, and at every use against its owner's current roles.
 */
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../infra/errors.ts';
import type { ApiToken, RoleBinding } from '../store/access-types.ts';
import { auditWith, type AccessDeps } from './access-deps.ts';
import { boundPrincipal, type BoundPrincipal } from './bound-principal.ts';
import { excessOf, toRoleBindingInput } from './role-bindings.ts';
import { newTokenId, newTokenSecret, secretHash } from './secrets.ts';

export interface CreatedToken {
  token: ApiToken;
  /** The bearer secret: returned once, never stored. */
  secret: string;
}

export const tokenActor = (token: Pick<ApiToken, 'owner' | 'name'>): string =>
  `token:${token.owner}/${token.name}`;

export function createTokenService(deps: AccessDeps) {
  const { store, clock, limits } = deps;

  /** The caller may act on `token`: its own, or any with users:admin. NotFoundError otherwise (no leak). */
  async function requireManageable(id: string, caller: BoundPrincipal): Promise<ApiToken> {
    const token = await store.getToken(id);
    if (token === undefined || (token.owner !== caller.user && !caller.can('users:admin')))
      throw new NotFoundError(`token ${id} not found`, { id });
    return token;
  }

  return {
    /**
     * A token for the caller's user. `roles` defaults to the caller's own; ForbiddenError naming
     * what exceeds the caller's. `expiresInS` at most `tokenMaxLifetimeS`.
     */
    async create(
      input: { name: string; expiresInS: number | undefined; roles: RoleBinding[] | undefined },
      caller: BoundPrincipal,
      source: string,
    ): Promise<CreatedToken> {
      const expiresInS = input.expiresInS ?? limits.tokenMaxLifetimeS;
      if (expiresInS > limits.tokenMaxLifetimeS)
        throw new ValidationError(
          `expiresInS must be at most ${limits.tokenMaxLifetimeS} (auth.tokenMaxLifetimeS)`,
          {
            field: 'expiresInS',
          },
        );
      const roles = input.roles ?? [...caller.bindings];
      const excess = excessOf(roles, caller.bindings);
      if (excess.length > 0)
        throw new ForbiddenError(`a token cannot grant more than its creator holds: ${excess.join(', ')}`, {
          missing: excess,
        });
      const secret = newTokenSecret();
      const now = clock.now();
      const token = await store.createToken(
        {
          id: newTokenId(),
          name: input.name,
          owner: caller.user,
          secretHash: secretHash(secret),
          expiresAtMs: now + expiresInS * 1000,
          roles,
        },
        now,
      );
      await auditWith(deps, { actor: caller.actor, source }, 'token.created', token.id, {
        name: token.name,
        owner: token.owner,
        expiresAt: token.expiresAt,
        roles: roles.map(toRoleBindingInput),
      });
      return { token, secret };
    },

    /** The caller's tokens; every user's (or `owner`'s) with users:admin. */
    list(caller: BoundPrincipal | undefined, owner: string | undefined): Promise<ApiToken[]> {
      if (caller === undefined || caller.can('users:admin')) return store.listTokens(owner);
      if (owner !== undefined && owner !== caller.user)
        throw new ForbiddenError("listing another user's tokens needs users:admin", {
          missing: ['users:admin'],
        });
      return store.listTokens(caller.user);
    },

    async revoke(id: string, caller: BoundPrincipal, source: string): Promise<ApiToken> {
      const token = await requireManageable(id, caller);
      await store.revokeToken(id, clock.now());
      await auditWith(deps, { actor: caller.actor, source }, 'token.revoked', id, {
        name: token.name,
        owner: token.owner,
      });
      return (await store.getToken(id)) ?? token;
    },

    /** The principal of a bearer token; UnauthorizedError saying whether it is unknown, expired or revoked. */
    async authenticate(secret: string): Promise<BoundPrincipal> {
      const token = await store.getTokenByHash(secretHash(secret));
      if (token === undefined) throw new UnauthorizedError('unknown API token', { reason: 'invalid' });
      if (token.revokedAt !== null) throw new UnauthorizedError('API token revoked', { reason: 'revoked' });
      const now = clock.now();
      if (now >= Date.parse(token.expiresAt))
        throw new UnauthorizedError('API token expired', { reason: 'expired' });
      const owner = await store.getUser(token.owner);
      if (owner === undefined || owner.disabledAt !== null)
        throw new UnauthorizedError('API token revoked (its owner is disabled)', { reason: 'revoked' });
      await store.touchToken(token.id, now);
      return boundPrincipal({
        actor: tokenActor(token),
        user: token.owner,
        credential: { kind: 'token', id: token.id },
        bindings: token.roles,
        ceiling: owner.roles,
      });
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
