/** User administration (users:admin). Removing an admin needs `confirm: true`. */
import { z } from 'zod';
import { toUserView, userSchema } from '../../access/access-schemas.ts';
import { confirmField } from '../../access/confirmation.ts';
import { roleBindingListSchema, toRoleBinding } from '../../access/role-bindings.ts';
import { userNameSchema, type UserService } from '../../access/user-service.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

const nameParams = z.strictObject({ name: userNameSchema });

export function userRoutes(deps: { users: UserService }): ApiRoute[] {
  const { users } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/users',
      operationId: 'listUsers',
      summary: 'Every user with its roles, by name',
      tag: 'users',
      permission: 'users:admin',
      response: z.object({ items: z.array(userSchema) }),
      handler: async () => ({ items: (await users.list()).map(toUserView) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/users',
      operationId: 'createUser',
      summary: 'Create a user with a password (at least 12 characters) and roles',
      tag: 'users',
      permission: 'users:admin',
      body: z.strictObject({
        name: userNameSchema,
        password: z.string().min(1).max(1024),
        roles: roleBindingListSchema.default([]),
      }),
      response: userSchema,
      status: 201,
      errors: [400, 409],
      handler: async ({ body, principal, source }) =>
        toUserView(
          await users.create(
            { name: body.name, password: body.password, roles: body.roles.map(toRoleBinding) },
            { actor: principal.actor, source },
          ),
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/users/{name}',
      operationId: 'getUser',
      summary: 'One user',
      tag: 'users',
      permission: 'users:admin',
      params: nameParams,
      response: userSchema,
      errors: [404],
      handler: async ({ params }) => toUserView(await users.get(params.name)),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/users/{name}/roles',
      operationId: 'setUserRoles',
      summary: "Replace a user's roles (taking admin away needs confirm: true)",
      tag: 'users',
      permission: 'users:admin',
      params: nameParams,
      body: z.strictObject({ roles: roleBindingListSchema, confirm: confirmField }),
      response: userSchema,
      errors: [400, 404, 409, 428],
      handler: async ({ params, body, principal, source }) =>
        toUserView(
          await users.setRoles(
            params.name,
            body.roles.map(toRoleBinding),
            { actor: principal.actor, source },
            body.confirm,
          ),
        ),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/users/{name}/disable',
      operationId: 'disableUser',
      summary: 'Disable a user, revoking its sessions and tokens (an admin needs confirm: true)',
      tag: 'users',
      permission: 'users:admin',
      params: nameParams,
      body: z.strictObject({ confirm: confirmField }).prefault({}),
      response: userSchema,
      errors: [404, 409, 428],
      handler: async ({ params, body, principal, source }) =>
        toUserView(
          await users.setDisabled(params.name, true, { actor: principal.actor, source }, body.confirm),
        ),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/users/{name}/enable',
      operationId: 'enableUser',
      summary: 'Enable a disabled user (its old sessions and tokens stay revoked)',
      tag: 'users',
      permission: 'users:admin',
      params: nameParams,
      response: userSchema,
      errors: [404],
      handler: async ({ params, principal, source }) =>
        toUserView(await users.setDisabled(params.name, false, { actor: principal.actor, source })),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/users/{name}/password',
      operationId: 'setUserPassword',
      summary: "Set a user's password (at least 12 characters)",
      tag: 'users',
      permission: 'users:admin',
      params: nameParams,
      body: z.strictObject({ password: z.string().min(1).max(1024) }),
      response: z.object({ changed: z.literal(true) }),
      errors: [400, 404],
      handler: async ({ params, body, principal, source }) => {
        await users.setPassword(params.name, body.password, { actor: principal.actor, source });
        return { changed: true as const };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/users/{name}',
      operationId: 'deleteUser',
      summary: 'Delete a user with its sessions and tokens (an admin needs ?confirm=true)',
      tag: 'users',
      permission: 'users:admin',
      params: nameParams,
      query: z.strictObject({
        confirm: z
          .enum(['true', 'false'])
          .optional()
          .transform((value) => value === 'true')
          .describe('Must be true to delete an admin'),
      }),
      response: z.object({ deleted: z.literal(true) }),
      errors: [404, 409, 428],
      handler: async ({ params, query, principal, source }) => {
        await users.delete(params.name, { actor: principal.actor, source }, query.confirm);
        return { deleted: true as const };
      },
    }),
  ];
}
