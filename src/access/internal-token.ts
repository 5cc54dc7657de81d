/**
 * A short-lived API token for clients inside the server process (the demo fleet publishing its
 * factory releases): owned by an enabled admin, limited to `role`, audited with actor `system`.
 */
import { ConflictError } from '../infra/errors.ts';
import type { AccessStore } from '../store/access-types.ts';
import { boundPrincipal } from './bound-principal.ts';
import type { Role } from './permissions.ts';
import type { TokenService } from './token-service.ts';

export async function internalToken(
  deps: { store: Pick<AccessStore, 'listUsers'>; tokens: TokenService },
  request: { name: string; role: Role; lifetimeS: number },
): Promise<string> {
  const owner = (await deps.store.listUsers()).find(
    (user) => user.disabledAt === null && user.roles.some((binding) => binding.role === 'admin'),
  );
  if (owner === undefined) throw new ConflictError('no enabled admin to own an internal API token');
  const principal = boundPrincipal({
    actor: 'system',
    user: owner.name,
    credential: { kind: 'token', id: 'internal' },
    bindings: owner.roles,
  });
  const created = await deps.tokens.create(
    {
      name: `${request.name}-${Date.now()}`,
      expiresInS: request.lifetimeS,
      roles: [{ role: request.role, scope: { kind: 'all' } }],
    },
    principal,
    'local',
  );
  return created.secret;
}
