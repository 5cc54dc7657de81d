/**
 * Private signing key files: JSON, owner-only (0600), the 32-byte Ed25519 seed either in clear
 * (only when the operator asked for it) or sealed with AES-256-GCM under a key derived from a
 * passphrase with scrypt (RFC 7914). The key id and public key are bound to the ciphertext as
 * GCM additional data, so editing them in the file makes decryption fail.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FlotillaError, ValidationError } from '../infra/errors.ts';
import { writeKeyFile } from '../pki/pem-files.ts';
import { privateKeyFromSeed, rawPrivateSeed, rawPublicKey, type SigningKey } from './ed25519.ts';

/** The passphrase is wrong, or the sealed key was altered. */
export class KeyDecryptionError extends FlotillaError {
  readonly code = 'key_decryption_failed';
}

/** scrypt cost (RFC 7914 section 2): N=2^17, r=8, p=1 uses 128·N·r = 128 MiB, a few hundred ms. */
const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_FILE_TYPE = 'flotilla-signing-key';

const b64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .refine((s) => Buffer.from(s, 'base64').length === bytes, `expected ${bytes} bytes of base64`);

const sealedSchema = z.object({
  kdf: z.literal('scrypt'),
  N: z.number().int().min(16_384).max(1_048_576), // 2^14 to 2^20
  r: z.number().int().min(1).max(8),
  p: z.number().int().min(1).max(4),
  salt: b64(32),
  cipher: z.literal('aes-256-gcm'),
  iv: b64(12),
  tag: b64(16),
  ciphertext: b64(32),
});

const keyFileSchema = z.object({
  type: z.literal(KEY_FILE_TYPE),
  version: z.literal(1),
  algorithm: z.literal('ed25519'),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  publicKey: b64(32),
  seed: b64(32).optional(),
  sealed: sealedSchema.optional(),
});
export type KeyFile = z.infer<typeof keyFileSchema>;

function deriveKey(passphrase: string, salt: Buffer, cost: ScryptOptions): Promise<Buffer> {
  // The schema caps N and r, so a hostile key file cannot make scrypt take more than 1 GiB.
  const opts = { ...cost, maxmem: 256 * (cost.N ?? SCRYPT.N) * (cost.r ?? SCRYPT.r) };
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize('NFKC'), salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const additionalData = (keyId: string, publicKey: string): Buffer =>
  Buffer.from(`${KEY_FILE_TYPE}:1:${keyId}:${publicKey}`, 'utf8');

/** The key file's JSON; sealed with `passphrase`, or in clear when it is undefined. */
export async function encodeKeyFile(key: SigningKey, passphrase: string | undefined): Promise<string> {
  const head = {
    type: KEY_FILE_TYPE,
    version: 1,
    algorithm: 'ed25519',
    keyId: key.keyId.toString('hex'),
    publicKey: key.publicKey.toString('base64'),
  } as const;
  const seed = rawPrivateSeed(key.privateKey);
  if (passphrase === undefined)
    return `${JSON.stringify({ ...head, seed: seed.toString('base64') }, null, 2)}\n`;
  if (passphrase.length === 0) throw new ValidationError('the passphrase is empty');
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(passphrase, salt, SCRYPT), iv);
  cipher.setAAD(additionalData(head.keyId, head.publicKey));
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  const sealed = {
    kdf: 'scrypt',
    ...SCRYPT,
    salt: salt.toString('base64'),
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  return `${JSON.stringify({ ...head, sealed }, null, 2)}\n`;
}

/** Parses and checks a key file's JSON without decrypting it. */
export function parseKeyFile(text: string): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError('the key file is not JSON');
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) throw new ValidationError('not a flotilla signing key file');
  if ((parsed.data.seed === undefined) === (parsed.data.sealed === undefined))
    throw new ValidationError('a key file holds exactly one of "seed" or "sealed"');
  return parsed.data;
}

export function isSealed(file: KeyFile): boolean {
  return file.sealed !== undefined;
}

/** The signing key in `file`; `passphrase` is needed when it is sealed. */
export async function openKeyFile(file: KeyFile, passphrase: string | undefined): Promise<SigningKey> {
  let seed: Buffer;
  if (file.sealed === undefined) seed = Buffer.from(file.seed ?? '', 'base64');
  else {
    if (passphrase === undefined)
      throw new KeyDecryptionError('the key is encrypted: set FLOTILLA_KEY_PASSPHRASE or --passphrase-file');
    const s = file.sealed;
    const key = await deriveKey(passphrase, Buffer.from(s.salt, 'base64'), { N: s.N, r: s.r, p: s.p });
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64'));
    decipher.setAAD(additionalData(file.keyId, file.publicKey));
    decipher.setAuthTag(Buffer.from(s.tag, 'base64'));
    try {
      seed = Buffer.concat([decipher.update(Buffer.from(s.ciphertext, 'base64')), decipher.final()]);
    } catch {
      throw new KeyDecryptionError('wrong passphrase, or the key file was altered');
    }
  }
  const privateKey = privateKeyFromSeed(seed);
  const publicKey = rawPublicKey(privateKey);
  if (!publicKey.equals(Buffer.from(file.publicKey, 'base64')))
    throw new ValidationError('the key file public key does not match its private key');
  return { keyId: Buffer.from(file.keyId, 'hex'), publicKey, privateKey };
}

/** Writes the key owner-only (0600) via a temp file and rename; see pki/pem-files.ts. */
export async function writeSigningKeyFile(
  path: string,
  key: SigningKey,
  passphrase: string | undefined,
): Promise<void> {
  await writeKeyFile(path, await encodeKeyFile(key, passphrase));
}

/** Reads, parses and opens a key file. */
export async function readSigningKeyFile(path: string, passphrase: string | undefined): Promise<SigningKey> {
  return openKeyFile(parseKeyFile(await readKeyText(path)), passphrase);
}

export async function readKeyText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new ValidationError(`cannot read key file ${path}`);
  }
}
