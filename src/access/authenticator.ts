/**
 * Who a management API request comes from: `Authorization: Bearer flt_…` or the `flotilla_session`
 * cookie. UnauthorizedError when neither is present or the credential is unknown, expired or revoked.
 */
import { UnauthorizedError } from '../infra/errors.ts';
import type { BoundPrincipal } from './bound-principal.ts';
import type { SessionService } from './session-service.ts';
import type { TokenService } from './token-service.ts';

export const SESSION_COOKIE = 'flotilla_session';

export interface RequestCredentials {
  authorization: string | undefined;
  cookie: string | undefined;
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4), undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface Authenticator {
  authenticate(credentials: RequestCredentials): Promise<BoundPrincipal>;
}

export function createAuthenticator(deps: { sessions: SessionService; tokens: TokenService }): Authenticator {
  return {
    async authenticate({ authorization, cookie }) {
      if (authorization !== undefined) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
        if (match?.[1] === undefined)
          throw new UnauthorizedError('Authorization must be "Bearer <token>"', { reason: 'invalid' });
        return deps.tokens.authenticate(match[1]);
      }
      const session = cookieValue(cookie, SESSION_COOKIE);
      if (session !== undefined && session !== '') return deps.sessions.authenticate(session);
      throw new UnauthorizedError('authentication required: log in or send Authorization: Bearer <token>', {
        reason: 'missing',
      });
    },
  };
}
