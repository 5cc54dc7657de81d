/**
 * Role bindings as the API writes them (`{ role, where? }`: no `where` means every device) and the
 * rule that a token never gets more than its creator holds. Pure.
 */
import { z } from 'zod';
import { queryLimits } from '../fleet-query/index.ts';
import type { BindingScope, RoleBinding } from '../store/access-types.ts';
import { permissions, rolePermissions, roles, type Permission } from './permissions.ts';

export const roleBindingInputSchema = z.strictObject({
  role: z.enum(roles),
  where: z
    .string()
    .trim()
    .min(1)
    .max(queryLimits.maxBytes)
    .optional()
    .describe(
      'Fleet query limiting the devices the role reaches, e.g. group = "eu-west"; omit for every device',
    ),
});
export type RoleBindingInput = z.infer<typeof roleBindingInputSchema>;

export const roleBindingListSchema = z.array(roleBindingInputSchema).max(32);

export const toRoleBinding = (input: RoleBindingInput): RoleBinding => ({
  role: input.role,
  scope: input.where === undefined ? { kind: 'all' } : { kind: 'query', where: input.where },
});

export const toRoleBindingInput = (binding: RoleBinding): RoleBindingInput =>
  binding.scope.kind === 'all' ? { role: binding.role } : { role: binding.role, where: binding.scope.where };

const grants = (binding: RoleBinding, permission: Permission): boolean =>
  rolePermissions[binding.role].includes(permission);

/** Every permission any binding grants, in catalogue order. */
export function grantedPermissions(bindings: readonly RoleBinding[]): Permission[] {
  return permissions.filter((permission) => bindings.some((binding) => grants(binding, permission)));
}

/** The scopes of the bindings granting `permission`: undefined when none does. */
export function scopeOf(bindings: readonly RoleBinding[], permission: Permission): BindingScope | undefined {
  const granting = bindings.filter((binding) => grants(binding, permission));
  if (granting.length === 0) return undefined;
  const queries: string[] = [];
  for (const binding of granting) {
    if (binding.scope.kind === 'all') return { kind: 'all' };
    if (!queries.includes(binding.scope.where)) queries.push(binding.scope.where);
  }
  const where = queries.length === 1 ? (queries[0] ?? '') : queries.map((q) => `(${q})`).join(' or ');
  return { kind: 'query', where };
}

/**
 * What `requested` grants beyond `held`, as `permission` names (with the scope when only the
 * scope is wider); empty when it stays within. A scoped permission is within only when `held`
 * grants it on every device or on the very same query (no query containment is attempted).
 */
export function excessOf(requested: readonly RoleBinding[], held: readonly RoleBinding[]): string[] {
  const excess: string[] = [];
  for (const permission of grantedPermissions(requested)) {
    const heldScope = scopeOf(held, permission);
    if (heldScope === undefined) {
      excess.push(permission);
      continue;
    }
    if (heldScope.kind === 'all') continue;
    const heldQueries = held
      .filter((binding) => grants(binding, permission) && binding.scope.kind === 'query')
      .map((binding) => (binding.scope.kind === 'query' ? binding.scope.where : ''));
    const wider = requested.some(
      (binding) =>
        grants(binding, permission) &&
        (binding.scope.kind === 'all' || !heldQueries.includes(binding.scope.where)),
    );
    if (wider) excess.push(`${permission} (beyond ${heldScope.where})`);
  }
  return excess;
}
