/**
 * Targets metadata signed away from the server (TUF 6.1: the targets key stays offline). The
 * server prepares the `signed` object, an operator signs its canonical JSON, and the server
 * checks the returned signatures against the current root before writing anything.
 */
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetadataKind } from '@tufjs/models';
import type { Root, Targets } from '@tufjs/models';
import { ForbiddenError, ValidationError } from '../../infra/errors.ts';
import { currentRoot } from './repository.ts';
import type { TufRepository } from './repository.ts';
import type { PublishedVersions } from './targets.ts';
import { writeTargetsAndSnapshot } from './targets.ts';

/** One detached signature over the canonical bytes of `signed` (TUF 4.2: hex `sig`). */
export interface DetachedSignature {
  keyid: string;
  sig: string;
}

/** The bytes a targets key signs: the canonical JSON of the `signed` object (TUF 4.2). */
export function canonicalSignedBytes(signed: Record<string, unknown>): Buffer {
  return Buffer.from(canonicalize(signed));
}

/**
 * Verifies every signature against the root's targets keys and the threshold (TUF 5.6.3),
 * then writes the targets metadata with a new snapshot and timestamp. ForbiddenError for an
 * unknown key, an invalid signature or too few signatures; nothing is written then.
 */
export async function publishSignedTargets(
  repo: TufRepository,
  signed: Record<string, unknown>,
  signatures: readonly DetachedSignature[],
): Promise<PublishedVersions> {
  let metadata: Metadata<Targets>;
  try {
    metadata = Metadata.fromJSON(MetadataKind.Targets, {
      // Parsed JSON from a request body; the models check its shape and reject bad fields.
      signed: signed as Parameters<typeof Metadata.fromJSON>[1]['signed'],
      signatures: signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
    });
  } catch (err) {
    throw new ValidationError('invalid targets metadata', { reason: (err as Error).message });
  }
  verifyTargetsSignatures((await currentRoot(repo)).signed, metadata);
  return writeTargetsAndSnapshot(repo, metadata);
}

function verifyTargetsSignatures(root: Root, metadata: Metadata<Targets>): void {
  const role = root.roles['targets'];
  if (!role) throw new ForbiddenError('root has no targets role');
  const valid = new Set<string>();
  for (const signature of Object.values(metadata.signatures)) {
    const key = root.keys[signature.keyID];
    if (!key || !role.keyIDs.includes(signature.keyID)) {
      throw new ForbiddenError(`signer key is not a targets key in root v${root.version}`, {
        keyId: signature.keyID,
      });
    }
    try {
      key.verifySignature(metadata);
    } catch {
      throw new ForbiddenError('invalid targets signature', { keyId: signature.keyID });
    }
    valid.add(signature.keyID);
  }
  if (valid.size < role.threshold) {
    throw new ForbiddenError(`targets needs ${role.threshold} signatures`, { have: valid.size });
  }
}
