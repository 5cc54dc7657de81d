import { canonicalize } from '@tufjs/canonical-json';
import { Signature } from '@tufjs/models';
import type { Metadata, Root, Snapshot, Targets, Timestamp } from '@tufjs/models';
import { ForbiddenError } from '../../infra/errors.ts';
import type { Signer } from './signer.ts';

export type TopLevelRole = 'root' | 'targets' | 'snapshot' | 'timestamp';

/**
 * Refuses to publish metadata a client would reject: every signer must hold a key the root
 * assigns to `role`, and there must be at least `threshold` distinct ones (TUF 4.3, 5.3.4).
 */
export function assertThreshold(root: Root, role: TopLevelRole, signers: readonly Signer[]): void {
  const assigned = root.roles[role];
  if (!assigned) throw new ForbiddenError(`root has no ${role} role`);
  const keyIds = new Set(signers.map((s) => s.keyId));
  const unknown = [...keyIds].filter((id) => !assigned.keyIDs.includes(id));
  if (unknown.length > 0) {
    throw new ForbiddenError(`signer key is not a ${role} key in root v${root.version}`, {
      keyIds: unknown,
    });
  }
  if (keyIds.size < assigned.threshold) {
    throw new ForbiddenError(`${role} needs ${assigned.threshold} signatures`, {
      have: keyIds.size,
    });
  }
}

/**
 * Adds one signature per signer over the canonical JSON of `signed` (TUF 4.2 / 5.3.x: clients
 * verify against the canonical form). Signers are async so they can be offline or remote.
 */
export async function signMetadata(
  metadata: Metadata<Root | Targets | Snapshot | Timestamp>,
  signers: readonly Signer[],
): Promise<void> {
  const bytes = Buffer.from(canonicalize(metadata.signed.toJSON()));
  for (const signer of signers) {
    const sig = await signer.sign(bytes);
    metadata.signatures[signer.keyId] = new Signature({
      keyID: signer.keyId,
      sig: sig.toString('hex'),
    });
  }
}

/** TUF 4.2 "expires": ISO 8601 UTC without fractional seconds. */
export function expiresAt(nowMs: number, lifetimeMs: number): string {
  return new Date(nowMs + lifetimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
