import type { KeyObject } from 'node:crypto';
import { writeMetadata } from './layout.ts';
import { currentRoot } from './repository.ts';
import type { TufRepository } from './repository.ts';
import { buildRoot, keysOf, thresholdsOf } from './root-metadata.ts';
import { assertThreshold, expiresAt, signMetadata } from './sign.ts';
import type { TopLevelRole } from './sign.ts';
import { tufKey } from './signer.ts';
import type { Signer } from './signer.ts';

export interface RotateRootOptions {
  /** New public keys for the roles that change; roles left out keep their keys. */
  keys: Partial<Record<TopLevelRole, readonly KeyObject[]>>;
  /** New thresholds for roles that change; others keep theirs. */
  thresholds?: Partial<Record<TopLevelRole, number>>;
  /** A threshold of signers from the current root's root keys. */
  oldRootSigners: readonly Signer[];
  /** A threshold of signers from the new root's root keys. */
  newRootSigners: readonly Signer[];
}

/**
 * Writes `N+1.root.json` signed by a threshold of the old AND the new root keys, which is what
 * a client requires to accept it (TUF 5.3.4 old keys, 5.3.5 new keys). When the snapshot or
 * timestamp keys change, clients discard their trusted snapshot/timestamp (TUF 5.3.11); the
 * caller then reopens the repository with the new signers and republishes them.
 */
export async function rotateRoot(repo: TufRepository, options: RotateRootOptions): Promise<number> {
  const old = await currentRoot(repo);
  const keys = { ...keysOf(old.signed) };
  for (const [role, roleKeys] of Object.entries(options.keys) as [TopLevelRole, KeyObject[]][]) {
    keys[role] = roleKeys.map(tufKey);
  }
  const next = buildRoot({
    version: old.signed.version + 1,
    expires: expiresAt(repo.clock.now(), repo.lifetimesMs.root),
    keys,
    thresholds: { ...thresholdsOf(old.signed), ...options.thresholds },
  });
  assertThreshold(old.signed, 'root', options.oldRootSigners);
  assertThreshold(next.signed, 'root', options.newRootSigners);
  const signers = new Map<string, Signer>();
  for (const signer of [...options.oldRootSigners, ...options.newRootSigners]) {
    signers.set(signer.keyId, signer);
  }
  await signMetadata(next, [...signers.values()]);
  await writeMetadata(repo.dir, 'root', next);
  return next.signed.version;
}
