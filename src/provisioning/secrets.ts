/**
 * Random identifiers and secrets of provisioning: batch ids, owner claim codes, device tokens.
 * Tokens are stored only as SHA-256 hashes: they are 256-bit random values, so a fast hash is
 * enough (no password stretching needed), and comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Crockford base32: no I, L, O, U, so codes survive being read aloud or typed from a label. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(bytes: Buffer, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += CROCKFORD[(bytes[i] ?? 0) & 31];
  return out;
}

/** `b-` and 12 base32 characters (60 bits): unique enough for batches, safe in topics and CNs. */
export function newBatchId(): string {
  return `b-${base32(randomBytes(12), 12).toLowerCase()}`;
}

/** Owner claim code: 12 base32 characters (60 bits), shown as XXXX-XXXX-XXXX. */
export function newClaimCode(): string {
  const raw = base32(randomBytes(12), 12);
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
}

/** Accepts codes typed in lower case, without dashes, or with O/I/L for 0/1/1. */
export function normalizeClaimCode(input: string): string {
  const raw = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return raw.length === 12 ? `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}` : raw;
}

/** A device token: 32 random bytes, base64url. */
export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokenMatches(token: string, storedHash: string): boolean {
  const given = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
