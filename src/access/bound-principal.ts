/** A Principal built from role bindings (a signed-in user or an API token). Pure. */
import type { RoleBinding } from '../store/access-types.ts';
import type { Permission } from './permissions.ts';
import type { DeviceScope, Principal } from './principal.ts';
import { scopeOf } from './role-bindings.ts';

/** How the request was authenticated: what logout revokes, and whose tokens these are. */
export type Credential = { kind: 'session'; idHash: string } | { kind: 'token'; id: string };

export interface BoundPrincipal extends Principal {
  /** The user behind the request: the signed-in user, or the token's owner. */
  readonly user: string;
  readonly credential: Credential;
  readonly bindings: readonly RoleBinding[];
}

/**
 * `ceiling`, when given, caps what the bindings grant (a token never outlives a later cut of its
 * owner's roles): a permission needs both.
 */
export function boundPrincipal(options: {
  actor: string;
  user: string;
  credential: Credential;
  bindings: readonly RoleBinding[];
  ceiling?: readonly RoleBinding[];
}): BoundPrincipal {
  const { bindings, ceiling } = options;
  const can = (permission: Permission): boolean =>
    scopeOf(bindings, permission) !== undefined &&
    (ceiling === undefined || scopeOf(ceiling, permission) !== undefined);
  return {
    actor: options.actor,
    user: options.user,
    credential: options.credential,
    bindings,
    can,
    deviceScope(permission: Permission): DeviceScope {
      // Only meaningful when can(permission); otherwise a query no device matches (ids are non-empty).
      return scopeOf(bindings, permission) ?? { kind: 'query', where: 'id = ""' };
    },
  };
}

/** The principal's own bindings when it has any (signed in or by token), for /auth/me. */
export function isBoundPrincipal(principal: Principal): principal is BoundPrincipal {
  return 'credential' in principal && 'bindings' in principal;
}
