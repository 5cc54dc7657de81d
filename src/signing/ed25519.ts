/**
 * Ed25519 signing keys on node:crypto. A key carries an 8-byte key id chosen at random when
 * the key is made, as minisign does (minisign.c: `randombytes_buf(keynum, sizeof keynum)`),
 * so signatures and public keys can say which key they belong to without a fingerprint scheme.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { ValidationError } from '../infra/errors.ts';

/** Bytes in a key id (minisign KEYNUMBYTES). */
export const KEY_ID_BYTES = 8;
/** Bytes in a raw Ed25519 public key or private seed. */
export const ED25519_KEY_BYTES = 32;
/** Bytes in an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;

/** DER of PKCS#8 PrivateKeyInfo for id-Ed25519 up to the 32-byte seed (RFC 8410 section 7). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SigningKey {
  /** 8 bytes, in the order they appear in minisign files. */
  readonly keyId: Buffer;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

export interface VerifyingKey {
  readonly keyId: Buffer;
  readonly publicKey: Buffer;
}

/** Makes a new key pair with a fresh random key id. */
export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { keyId: randomBytes(KEY_ID_BYTES), publicKey: rawPublicKey(privateKey), privateKey };
}

/** The raw 32-byte public key of an Ed25519 private or public KeyObject. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new ValidationError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** The 32-byte private seed (RFC 8032 section 5.1.5 "private key"). */
export function rawPrivateSeed(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new ValidationError('not an Ed25519 key');
  return Buffer.from(jwk.d, 'base64url');
}

/** Rebuilds a private KeyObject from its seed; the public key is derived, not trusted. */
export function privateKeyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== ED25519_KEY_BYTES) throw new ValidationError('Ed25519 seed must be 32 bytes');
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

export function publicKeyObject(raw: Buffer): KeyObject {
  if (raw.length !== ED25519_KEY_BYTES) throw new ValidationError('Ed25519 public key must be 32 bytes');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

/** Pure Ed25519 signature (64 bytes) over `message`. */
export function signBytes(privateKey: KeyObject, message: Buffer): Buffer {
  return sign(null, message, privateKey);
}

/** True when `signature` is a valid Ed25519 signature of `message` by the raw `publicKey`. */
export function verifyBytes(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  return verify(null, message, publicKeyObject(publicKey), signature);
}

/** The key id as minisign prints it: the 8 bytes read as a little-endian u64, upper-case hex. */
export function formatKeyId(keyId: Buffer): string {
  return Buffer.from(keyId).reverse().toString('hex').toUpperCase();
}
