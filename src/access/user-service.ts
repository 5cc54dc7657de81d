/**
 * Management API users: create, list, change roles, disable, delete, reset passwords. Every change
 * is audited with the acting principal. Removing an admin (delete, disable) needs `confirm: true`,
 * and the last enabled admin cannot be removed at all (nobody could manage users any more).
 */
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../infra/errors.ts';
import type { RoleBinding, User } from '../store/access-types.ts';
import type { AuditOrigin } from '../store/provisioning-types.ts';
import { auditWith, type AccessDeps } from './access-deps.ts';
import { requireConfirmation } from './confirmation.ts';
import { checkPasswordStrength, hashPassword } from './passwords.ts';
import { toRoleBindingInput } from './role-bindings.ts';

export const userNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-", starting with a letter');

const isAdmin = (user: User): boolean => user.roles.some((binding) => binding.role === 'admin');

export function createUserService(deps: AccessDeps) {
  const { store, clock } = deps;

  async function requireUser(name: string): Promise<User> {
    const user = await store.getUser(name);
    if (user === undefined) throw new NotFoundError(`user ${name} not found`, { name });
    return user;
  }

  async function checkScopes(roles: RoleBinding[]): Promise<void> {
    for (const binding of roles) {
      if (binding.scope.kind === 'query') await deps.checkScope(binding.scope.where);
    }
  }

  /** ConflictError when `name` is the last enabled admin. */
  async function keepAnAdmin(name: string, what: string): Promise<void> {
    const admins = (await store.listUsers()).filter((user) => isAdmin(user) && user.disabledAt === null);
    if (admins.length === 1 && admins[0]?.name === name)
      throw new ConflictError(`${what} would leave no enabled admin`, { name });
  }

  return {
    async create(
      input: { name: string; password: string; roles: RoleBinding[] },
      origin: AuditOrigin,
    ): Promise<User> {
      checkPasswordStrength(input.password);
      await checkScopes(input.roles);
      const user = await store.createUser(
        { name: input.name, passwordHash: await hashPassword(input.password), roles: input.roles },
        clock.now(),
      );
      await auditWith(deps, origin, 'user.created', input.name, {
        roles: input.roles.map(toRoleBindingInput),
      });
      return user;
    },

    list: () => store.listUsers(),

    get: (name: string) => requireUser(name),

    async setRoles(
      name: string,
      roles: RoleBinding[],
      origin: AuditOrigin,
      confirm?: boolean,
    ): Promise<User> {
      const before = await requireUser(name);
      await checkScopes(roles);
      if (isAdmin(before) && !roles.some((binding) => binding.role === 'admin')) {
        requireConfirmation(confirm, `taking the admin role from ${name}`);
        await keepAnAdmin(name, `taking the admin role from ${name}`);
      }
      await store.setUserRoles(name, roles);
      await auditWith(deps, origin, 'user.roles_changed', name, {
        before: before.roles.map(toRoleBindingInput),
        after: roles.map(toRoleBindingInput),
      });
      return requireUser(name);
    },

    async setDisabled(
      name: string,
      disabled: boolean,
      origin: AuditOrigin,
      confirm?: boolean,
    ): Promise<User> {
      const user = await requireUser(name);
      if (disabled && isAdmin(user)) {
        requireConfirmation(confirm, `disabling admin ${name}`);
        await keepAnAdmin(name, `disabling ${name}`);
      }
      await store.setUserDisabled(name, disabled, clock.now());
      await auditWith(deps, origin, disabled ? 'user.disabled' : 'user.enabled', name);
      return requireUser(name);
    },

    async delete(name: string, origin: AuditOrigin, confirm?: boolean): Promise<void> {
      const user = await requireUser(name);
      if (isAdmin(user)) {
        requireConfirmation(confirm, `deleting admin ${name}`);
        await keepAnAdmin(name, `deleting ${name}`);
      }
      await store.deleteUser(name);
      await auditWith(deps, origin, 'user.deleted', name);
    },

    async setPassword(name: string, password: string, origin: AuditOrigin): Promise<void> {
      checkPasswordStrength(password);
      await requireUser(name);
      await store.setPasswordHash(name, await hashPassword(password));
      await auditWith(deps, origin, 'user.password_changed', name);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
