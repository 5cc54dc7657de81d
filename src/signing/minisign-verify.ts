/**
 * Verifying minisign signatures, for the device agent and `flotilla keys verify`. Checks in the
 * order minisign 0.11 does (minisign.c `verify`): algorithm, key id, the file signature, then
 * the global signature that binds the trusted comment. Each failure is a typed reason.
 */
import { readFile, stat } from 'node:fs/promises';
import { formatKeyId, verifyBytes, type VerifyingKey } from './ed25519.ts';
import { blake2bFile, MinisignError, parseSignature, type SignatureAlgorithm } from './minisign.ts';

export interface VerifyOptions {
  /** Accept legacy "Ed" signatures over the raw file (read whole into memory). Default false. */
  readonly allowLegacy?: boolean;
  /** Largest file accepted for a legacy signature, in bytes. Default 64 MiB. */
  readonly maxLegacyBytes?: number;
}

export interface VerifiedSignature {
  readonly algorithm: SignatureAlgorithm;
  /** Key id as minisign prints it (upper-case hex). */
  readonly keyId: string;
  /** The signed trusted comment, e.g. `timestamp:1700000000\tfile:fw.bin`. */
  readonly trustedComment: string;
}

const DEFAULT_MAX_LEGACY_BYTES = 64 * 1024 * 1024;

/**
 * Verifies `sigText` (a `.minisig` file) for `message`, given either the message itself
 * (legacy "Ed") or its BLAKE2b-512 digest ("ED"). Throws MinisignError with the reason.
 */
export function verifySignatureText(
  sigText: string,
  key: VerifyingKey,
  signed: (algorithm: SignatureAlgorithm) => Buffer,
): VerifiedSignature {
  const sig = parseSignature(sigText);
  if (!sig.keyId.equals(key.keyId))
    throw new MinisignError(
      'key_id_mismatch',
      `signature key id ${formatKeyId(sig.keyId)} is not the public key's ${formatKeyId(key.keyId)}`,
    );
  if (!verifyBytes(key.publicKey, signed(sig.algorithm), sig.signature))
    throw new MinisignError('invalid_signature', 'signature verification failed');
  const global = Buffer.concat([sig.signature, Buffer.from(sig.trustedComment)]);
  if (!verifyBytes(key.publicKey, global, sig.globalSignature))
    throw new MinisignError('invalid_global_signature', 'comment signature verification failed');
  return { algorithm: sig.algorithm, keyId: formatKeyId(sig.keyId), trustedComment: sig.trustedComment };
}

/** Verifies the file at `path` against the signature file text, hashing it as a stream. */
export async function verifyFile(
  path: string,
  sigText: string,
  key: VerifyingKey,
  opts: VerifyOptions = {},
): Promise<VerifiedSignature> {
  const { algorithm } = parseSignature(sigText);
  let signed: Buffer;
  if (algorithm === 'ED') signed = await blake2bFile(path);
  else {
    if (opts.allowLegacy !== true)
      throw new MinisignError('legacy_not_allowed', 'legacy (non-prehashed) signatures are not accepted');
    if ((await stat(path)).size > (opts.maxLegacyBytes ?? DEFAULT_MAX_LEGACY_BYTES))
      throw new MinisignError('legacy_not_allowed', 'file too large for a legacy signature');
    signed = await readFile(path);
  }
  return verifySignatureText(sigText, key, () => signed);
}
