/**
 * The detached minisign signature published with each image: the operator's, uploaded with the
 * release and checked against `ota.minisignPublicKeys`, or else one the server makes with its own
 * online key. Devices verify it with stock `minisign -V` or the agent's verifier.
 */
import type { Clock } from '../../infra/clock.ts';
import type { SigningKey, VerifyingKey } from '../../signing/ed25519.ts';
import { MinisignError, parseSignature, signFile } from '../../signing/minisign.ts';
import { verifyFile } from '../../signing/minisign-verify.ts';

export interface ImageSigningDeps {
  clock: Clock;
  /** The server's own key, used when the operator uploads no signature. */
  serverKey: SigningKey;
  /** Keys an uploaded signature may be made with (config `ota.minisignPublicKeys`). */
  trustedKeys: readonly VerifyingKey[];
}

export interface ImageSignature {
  minisig: string;
  signedBy: 'operator' | 'server';
}

/** MinisignError (422) unless `minisig` is a valid signature of the file by a trusted key. */
export async function checkOperatorSignature(
  imagePath: string,
  minisig: string,
  trustedKeys: readonly VerifyingKey[],
): Promise<void> {
  const { keyId } = parseSignature(minisig);
  const key = trustedKeys.find((candidate) => candidate.keyId.equals(keyId));
  if (!key) {
    throw new MinisignError(
      'key_id_mismatch',
      'the signature is not made by a key in ota.minisignPublicKeys',
    );
  }
  await verifyFile(imagePath, minisig, key);
}

/** The signature to store: the uploaded one once verified, or a fresh server signature. */
export async function imageSignature(
  imagePath: string,
  uploaded: string | undefined,
  deps: ImageSigningDeps,
): Promise<ImageSignature> {
  if (uploaded !== undefined) {
    await checkOperatorSignature(imagePath, uploaded, deps.trustedKeys);
    return { minisig: uploaded, signedBy: 'operator' };
  }
  const minisig = await signFile(imagePath, deps.serverKey, { nowMs: deps.clock.now() });
  return { minisig, signedBy: 'server' };
}
