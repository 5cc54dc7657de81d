/**
 * Bearer secrets: API tokens (`flt_` + 32 random bytes, base64url) and session ids. Only their
 * SHA-256 is stored, so a database leak gives no usable credential; 256 random bits make a slow
 * hash unnecessary.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'flt_';
const SECRET_BYTES = 32;

/** A new API token secret: `flt_<43 base64url characters>`. */
export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/** A new session id for the `flotilla_session` cookie. */
export function newSessionSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** A short public id for a token (listing, revocation); not a secret. */
export function newTokenId(): string {
  return `tok_${randomBytes(8).toString('hex')}`;
}

/** Hex SHA-256 of a secret: what the store keeps and looks up by. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether a bearer value has the API token shape (otherwise it cannot be one of ours). */
export function looksLikeToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX) && /^[A-Za-z0-9_-]{43}$/.test(value.slice(TOKEN_PREFIX.length));
}
