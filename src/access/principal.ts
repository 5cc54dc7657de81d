/**
 * Who is calling the management API, and what they may touch. The HTTP layer authenticates the
 * request and checks the route's permission (api/http-server.ts); a handler that acts on devices
 * narrows its work with `deviceScope` — a fleet query ANDed into its own — so an operator of the
 * "eu-west" group cannot reach a device in "us-east".
 */
import type { Permission } from './permissions.ts';

/** Which devices a permission reaches: every device, or those matching a fleet query. */
export type DeviceScope = { kind: 'all' } | { kind: 'query'; where: string };

export interface Principal {
  /** The audit log's actor: `user:<name>`, `token:<owner>/<name>`, or `api` when authentication is off. */
  readonly actor: string;
  /** Whether any of the principal's role bindings grants `permission`. */
  can(permission: Permission): boolean;
  /**
   * The devices `permission` reaches (the union of the scopes of the bindings that grant it).
   * Only meaningful when `can(permission)`.
   */
  deviceScope(permission: Permission): DeviceScope;
}

/** Authentication switched off (`auth.enabled: false`): everything is allowed, audited as `actor`. */
export function unrestrictedPrincipal(actor = 'api'): Principal {
  return {
    actor,
    can: () => true,
    deviceScope: () => ({ kind: 'all' }),
  };
}

/**
 * A fleet query restricted to `scope`: `undefined` (no restriction at all) when both are open,
 * otherwise the parenthesised conjunction, ready for `DeviceFilter.where`.
 */
export function scopedWhere(scope: DeviceScope, where: string | undefined): string | undefined {
  const own = where !== undefined && where.trim() !== '' ? where : undefined;
  if (scope.kind === 'all') return own;
  return own === undefined ? `(${scope.where})` : `(${scope.where}) and (${own})`;
}

/** The caller of a public route: holds no permission, reaches no device. */
export function anonymousPrincipal(): Principal {
  return {
    actor: 'anonymous',
    can: () => false,
    deviceScope: () => ({ kind: 'query', where: 'id = ""' }),
  };
}
