/**
 * Signed, expiring download URLs: `…/artifacts/{sha256}?expires=<unix s>&sig=<hex>` where sig is
 * HMAC-SHA256(key, "<sha256>\n<expires>"). They let a device (or a CDN in front of the server)
 * fetch one image until the expiry without a client certificate. The key lives in the data
 * directory (0600) and never leaves the server.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type SignedUrlCheck = { ok: true } | { ok: false; reason: string };

function mac(key: Buffer, sha256: string, expiresS: number): Buffer {
  return createHmac('sha256', key).update(`${sha256}\n${expiresS}`).digest();
}

export function signDownload(key: Buffer, sha256: string, expiresS: number): string {
  return mac(key, sha256, expiresS).toString('hex');
}

export function verifyDownload(
  key: Buffer,
  sha256: string,
  expires: string,
  sig: string,
  nowMs: number,
): SignedUrlCheck {
  if (!/^\d{1,12}$/.test(expires)) return { ok: false, reason: 'expires must be a Unix time in seconds' };
  if (!/^[0-9a-f]{64}$/.test(sig)) return { ok: false, reason: 'sig must be 64 hex characters' };
  const expiresS = Number(expires);
  if (expiresS * 1000 <= nowMs) return { ok: false, reason: 'the download URL has expired' };
  const expected = mac(key, sha256, expiresS);
  if (!timingSafeEqual(expected, Buffer.from(sig, 'hex')))
    return { ok: false, reason: 'the download URL signature is invalid' };
  return { ok: true };
}

/** The URL-signing key, created (32 random bytes, 0600) on first use. */
export async function loadOrCreateUrlKey(path: string): Promise<Buffer> {
  try {
    const key = await readFile(path);
    if (key.length === 32) return key;
  } catch {
    // created below
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  await writeFile(path, key, { mode: 0o600 });
  return key;
}
