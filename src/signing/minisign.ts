/**
 * minisign 0.11 file formats (https://jedisct1.github.io/minisign/, "Signature format"):
 *   public key  line 2 = base64("Ed" ‖ key_id[8] ‖ Ed25519 pk[32])                       42 bytes
 *   signature   line 1 `untrusted comment: …`
 *               line 2 = base64("ED" ‖ key_id[8] ‖ Ed25519 sig over BLAKE2b-512(file)[64])  74 bytes
 *               line 3 `trusted comment: <text>`
 *               line 4 = base64(Ed25519 sig over (line-2 sig[64] ‖ <text>))                 64 bytes
 * "ED" is the prehashed algorithm minisign signs with by default; legacy "Ed" signs the raw file.
 * We always sign "ED", so files of any size are hashed as a stream.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { FlotillaError } from '../infra/errors.ts';
import { writeCertFile } from '../pki/pem-files.ts';
import { formatKeyId, KEY_ID_BYTES, signBytes, type SigningKey, type VerifyingKey } from './ed25519.ts';

/** Why a minisign public key or signature was rejected. */
export type MinisignFailureReason =
  | 'malformed_public_key'
  | 'malformed_signature'
  | 'unsupported_algorithm'
  | 'legacy_not_allowed'
  | 'key_id_mismatch'
  | 'invalid_signature'
  | 'invalid_global_signature';

export class MinisignError extends FlotillaError {
  readonly code = 'signature_rejected';
  constructor(
    readonly reason: MinisignFailureReason,
    message: string,
  ) {
    super(message, { reason });
  }
}

export type SignatureAlgorithm = 'ED' | 'Ed';

export interface ParsedSignature {
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: Buffer;
  /** 64-byte Ed25519 signature over BLAKE2b-512(file) ("ED") or the file ("Ed"). */
  readonly signature: Buffer;
  /** Text after `trusted comment: `, without the newline. */
  readonly trustedComment: string;
  /** 64-byte Ed25519 signature over `signature ‖ trustedComment`. */
  readonly globalSignature: Buffer;
}

const UNTRUSTED = 'untrusted comment: ';
const TRUSTED = 'trusted comment: ';
const PUBLIC_KEY_ALG = 'Ed';

/** BLAKE2b-512 of a file, read as a stream so memory stays flat for large images. */
export async function blake2bFile(path: string): Promise<Buffer> {
  const hash = createHash('blake2b512');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}

/** Strict base64: `Buffer.from` skips bad characters, so round-trip to reject them. */
function decodeBase64(text: string, bytes: number): Buffer | undefined {
  const buf = Buffer.from(text, 'base64');
  return buf.length === bytes && buf.toString('base64') === text ? buf : undefined;
}

/** Lines without their CR/LF; trailing blank lines dropped (minisign trims only CR and LF too). */
function lines(text: string): string[] {
  return text.replace(/[\r\n]+$/, '').split(/\r?\n/);
}

/** The bare base64 public key, as `minisign -P` takes it. */
export function encodePublicKey(key: VerifyingKey): string {
  return Buffer.concat([Buffer.from(PUBLIC_KEY_ALG), key.keyId, key.publicKey]).toString('base64');
}

/** A minisign public key file (`minisign.pub`). */
export function encodePublicKeyFile(key: VerifyingKey): string {
  return `${UNTRUSTED}minisign public key ${formatKeyId(key.keyId)}\n${encodePublicKey(key)}\n`;
}

/** Parses a public key file, or a bare base64 key line. */
export function parsePublicKey(text: string): VerifyingKey {
  const all = lines(text.trim());
  const keyLine =
    all.length === 2 && all[0]?.startsWith(UNTRUSTED) ? all[1] : all.length === 1 ? all[0] : undefined;
  const raw = decodeBase64(keyLine?.trim() ?? '', 2 + KEY_ID_BYTES + 32);
  if (!raw) throw new MinisignError('malformed_public_key', 'not a minisign public key');
  if (raw.subarray(0, 2).toString('latin1') !== PUBLIC_KEY_ALG)
    throw new MinisignError('unsupported_algorithm', 'the public key is not an Ed25519 minisign key');
  return { keyId: raw.subarray(2, 2 + KEY_ID_BYTES), publicKey: raw.subarray(2 + KEY_ID_BYTES) };
}

/** The trusted comment minisign writes by default. */
export function defaultTrustedComment(filePath: string, nowMs: number): string {
  return `timestamp:${Math.floor(nowMs / 1000)}\tfile:${basename(filePath)}`;
}

/** A signature file over a BLAKE2b-512 `digest` (algorithm "ED"). */
export function signDigest(key: SigningKey, digest: Buffer, trustedComment: string): string {
  if (/[\r\n]/.test(trustedComment)) throw new MinisignError('malformed_signature', 'comments are one line');
  const signature = signBytes(key.privateKey, digest);
  const globalSignature = signBytes(key.privateKey, Buffer.concat([signature, Buffer.from(trustedComment)]));
  const sigLine = Buffer.concat([Buffer.from('ED'), key.keyId, signature]).toString('base64');
  return [
    `${UNTRUSTED}signature from flotilla secret key ${formatKeyId(key.keyId)}`,
    sigLine,
    `${TRUSTED}${trustedComment}`,
    globalSignature.toString('base64'),
    '',
  ].join('\n');
}

export interface SignFileOptions {
  /** Defaults to `timestamp:<unix seconds>\tfile:<name>`. */
  readonly trustedComment?: string;
  /** Wall clock for the default trusted comment, in ms since the epoch. */
  readonly nowMs: number;
}

/** The minisign signature file text for the file at `path`. */
export async function signFile(path: string, key: SigningKey, opts: SignFileOptions): Promise<string> {
  const comment = opts.trustedComment ?? defaultTrustedComment(path, opts.nowMs);
  return signDigest(key, await blake2bFile(path), comment);
}

/** Signs `path` and writes `<path>.minisig` (or `sigPath`); returns the signature file path. */
export async function writeFileSignature(
  path: string,
  key: SigningKey,
  opts: SignFileOptions & { readonly sigPath?: string },
): Promise<string> {
  const sigPath = opts.sigPath ?? `${path}.minisig`;
  await writeCertFile(sigPath, await signFile(path, key, opts));
  return sigPath;
}

/** Parses a 4-line signature file; the signatures are not checked here. */
export function parseSignature(text: string): ParsedSignature {
  const [untrusted, sigLine, trusted, globalLine, ...rest] = lines(text);
  const bad = (why: string): never => {
    throw new MinisignError('malformed_signature', `malformed minisign signature: ${why}`);
  };
  if (!untrusted?.startsWith(UNTRUSTED) || rest.length > 0) bad('expected 4 lines');
  if (!trusted?.startsWith(TRUSTED)) bad('trusted comment not present');
  const raw = decodeBase64(sigLine ?? '', 2 + KEY_ID_BYTES + 64) ?? bad('bad signature line');
  const globalSignature = decodeBase64(globalLine ?? '', 64) ?? bad('bad global signature line');
  const algorithm = raw.subarray(0, 2).toString('latin1');
  if (algorithm !== 'ED' && algorithm !== 'Ed')
    throw new MinisignError(
      'unsupported_algorithm',
      `unsupported signature algorithm ${JSON.stringify(algorithm)}`,
    );
  return {
    algorithm,
    keyId: raw.subarray(2, 2 + KEY_ID_BYTES),
    signature: raw.subarray(2 + KEY_ID_BYTES),
    trustedComment: (trusted ?? '').slice(TRUSTED.length),
    globalSignature,
  };
}
