/**
 * The permission catalogue and the built-in roles. Every management API route names exactly one
 * permission (api/route.ts); the HTTP layer checks it before the handler runs, and handlers that act
 * on devices narrow their work to the principal's device scope for that permission
 * (access/principal.ts). Pure.
 */

/** `resource:verb`. Device-scoped permissions are narrowed to the role binding's device scope. */
export const permissions = [
  'devices:read',
  'devices:write',
  'telemetry:read',
  'alerts:read',
  'alerts:write',
  'alert-rules:write',
  'groups:write',
  'config:read',
  'config:write',
  'jobs:read',
  'jobs:write',
  'firmware:read',
  'firmware:write',
  'rollouts:read',
  'rollouts:write',
  'provisioning:read',
  'provisioning:write',
  'keys:admin',
  'ca:admin',
  'users:admin',
  'audit:read',
  'system:read',
  /** Every signed-in principal: who am I, log out, manage its own API tokens. */
  'account:self',
] as const;
export type Permission = (typeof permissions)[number];

export const roles = ['viewer', 'operator', 'release-manager', 'admin'] as const;
export type Role = (typeof roles)[number];

const readOnly: readonly Permission[] = [
  'devices:read',
  'telemetry:read',
  'alerts:read',
  'config:read',
  'jobs:read',
  'firmware:read',
  'rollouts:read',
  'provisioning:read',
  'audit:read',
  'system:read',
  'account:self',
];

/** What each role grants. Admin grants everything. */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: readOnly,
  operator: [
    ...readOnly,
    'devices:write',
    'alerts:write',
    'alert-rules:write',
    'groups:write',
    'config:write',
    'jobs:write',
  ],
  'release-manager': [...readOnly, 'firmware:write', 'rollouts:write'],
  admin: permissions,
};
