/** API shapes of users, tokens and "who am I" (one schema each, types inferred). */
import { z } from 'zod';
import type { ApiToken, User } from '../store/access-types.ts';
import { permissions } from './permissions.ts';
import { roleBindingInputSchema, toRoleBindingInput } from './role-bindings.ts';

export const userSchema = z.object({
  name: z.string(),
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
  roles: z.array(roleBindingInputSchema),
});

export const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  roles: z.array(roleBindingInputSchema),
});

export const whoAmISchema = z.object({
  /** The audit log's actor. */
  actor: z.string(),
  /** The signed-in user or the token's owner; null when access control is off. */
  user: z.string().nullable(),
  /** How the request was authenticated. */
  via: z.enum(['session', 'token', 'none']),
  roles: z.array(roleBindingInputSchema),
  /** Every permission granted (on at least some devices): the dashboard hides what is not here. */
  permissions: z.array(z.enum(permissions)),
});
export type WhoAmI = z.infer<typeof whoAmISchema>;

export const toUserView = (user: User): z.input<typeof userSchema> => ({
  name: user.name,
  createdAt: user.createdAt,
  disabledAt: user.disabledAt,
  roles: user.roles.map(toRoleBindingInput),
});

export const toTokenView = (token: ApiToken): z.input<typeof tokenSchema> => ({
  ...token,
  roles: token.roles.map(toRoleBindingInput),
});
