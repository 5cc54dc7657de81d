import { createHash, createPublicKey, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import { Key } from '@tufjs/models';
import { ValidationError } from '../../infra/errors.ts';

/**
 * Something that can sign TUF metadata with one key. The server holds signers only for the
 * online roles (snapshot, timestamp; TUF 6.1); root and targets signers may live in an
 * operator tool or HSM and only need to implement this interface.
 */
export interface Signer {
  /** TUF key id (TUF 4.2: sha256 of the canonical JSON of the public key). */
  readonly keyId: string;
  /** Signs the canonical JSON bytes of a `signed` object (TUF 4.2: ed25519 over raw bytes). */
  sign(bytes: Buffer): Promise<Buffer>;
}

/** The public key as TUF metadata stores it (TUF 4.2: keyval.public is raw 32 bytes hex). */
export function tufKeyJson(publicKey: KeyObject): {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyval: { public: string };
} {
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new ValidationError('TUF keys must be Ed25519', {
      keyType: publicKey.asymmetricKeyType,
    });
  }
  const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  const der = pub.export({ format: 'der', type: 'spki' });
  // The SPKI DER of an Ed25519 key ends with the 32 raw key bytes.
  const raw = der.subarray(der.length - 32);
  return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
}

/** TUF 4.2 KEYID: hex sha256 of the canonical JSON form of the public key. */
export function tufKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(canonicalize(tufKeyJson(publicKey)))
    .digest('hex');
}

/** The @tufjs/models Key for a public key, used to build root metadata. */
export function tufKey(publicKey: KeyObject): Key {
  const json = tufKeyJson(publicKey);
  return new Key({
    keyID: tufKeyId(publicKey),
    keyType: json.keytype,
    scheme: json.scheme,
    keyVal: json.keyval,
  });
}

/** A Signer over an in-process Ed25519 private key (node:crypto). */
export function ed25519Signer(privateKey: KeyObject): Signer {
  const keyId = tufKeyId(createPublicKey(privateKey));
  return {
    keyId,
    sign: (bytes) => Promise.resolve(cryptoSign(null, bytes, privateKey)),
  };
}
