/**
 * API tokens: anyone signed in manages their own (account:self); users:admin sees and revokes
 * everyone's. The secret is in the creation answer only.
 */
import { z } from 'zod';
import { toTokenView, tokenSchema } from '../../access/access-schemas.ts';
import { roleBindingListSchema, toRoleBinding } from '../../access/role-bindings.ts';
import type { TokenService } from '../../access/token-service.ts';
import { isBoundPrincipal } from '../../access/bound-principal.ts';
import { userNameSchema } from '../../access/user-service.ts';
import { defineRoute, type ApiRoute } from '../route.ts';
import { signedIn } from './auth.ts';

export function tokenRoutes(deps: { tokens: TokenService }): ApiRoute[] {
  const { tokens } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/tokens',
      operationId: 'createToken',
      summary:
        'Create an API token for yourself (expiry required, at most auth.tokenMaxLifetimeS; roles at most your own); the secret is shown once',
      tag: 'auth',
      permission: 'account:self',
      body: z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-" (1-64)'),
        expiresInS: z.number().int().min(60).describe('Lifetime in seconds, at most auth.tokenMaxLifetimeS'),
        roles: roleBindingListSchema.optional().describe('Default: your own roles'),
      }),
      response: z.object({
        token: tokenSchema,
        secret: z.string().describe('Send as Authorization: Bearer <secret>'),
      }),
      status: 201,
      errors: [400, 403, 409],
      handler: async ({ body, principal, source }) => {
        const created = await tokens.create(
          { name: body.name, expiresInS: body.expiresInS, roles: body.roles?.map(toRoleBinding) },
          signedIn(principal),
          source,
        );
        return { token: toTokenView(created.token), secret: created.secret };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/tokens',
      operationId: 'listTokens',
      summary: "Your API tokens, newest first (users:admin: everyone's, or one owner's)",
      tag: 'auth',
      permission: 'account:self',
      query: z.strictObject({ owner: userNameSchema.optional() }),
      response: z.object({ items: z.array(tokenSchema) }),
      errors: [403],
      handler: async ({ query, principal }) => ({
        items: (await tokens.list(isBoundPrincipal(principal) ? principal : undefined, query.owner)).map(
          toTokenView,
        ),
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/tokens/{id}/revoke',
      operationId: 'revokeToken',
      summary: 'Revoke an API token (yours; any with users:admin)',
      tag: 'auth',
      permission: 'account:self',
      params: z.strictObject({ id: z.string().min(1).max(64) }),
      response: tokenSchema,
      errors: [404],
      handler: async ({ params, principal, source }) =>
        toTokenView(await tokens.revoke(params.id, signedIn(principal), source)),
    }),
  ];
}
