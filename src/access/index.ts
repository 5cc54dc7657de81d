/** Builds the access-control services from the store and config (the composition root calls this). */
import type { AccessDeps } from './access-deps.ts';
import { createAuthenticator } from './authenticator.ts';
import { createSessionService } from './session-service.ts';
import { createTokenService } from './token-service.ts';
import { createUserService } from './user-service.ts';

export function createAccessControl(deps: AccessDeps) {
  const users = createUserService(deps);
  const sessions = createSessionService(deps);
  const tokens = createTokenService(deps);
  return { users, sessions, tokens, authenticator: createAuthenticator({ sessions, tokens }) };
}

export type AccessControl = ReturnType<typeof createAccessControl>;
