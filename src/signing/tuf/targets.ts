import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata, TargetFile, Targets } from '@tufjs/models';
import { ValidationError } from '../../infra/errors.ts';
import { fileInfo, latestVersion, readMetadata, targetsDir, writeAtomic, writeMetadata } from './layout.ts';
import { publishSnapshot } from './online-roles.ts';
import { currentRoot } from './repository.ts';
import type { TufRepository } from './repository.ts';
import { SPEC_VERSION } from './root-metadata.ts';
import { assertThreshold, expiresAt, signMetadata } from './sign.ts';
import type { Signer } from './signer.ts';
import { TargetCustomSchema, TargetNameSchema } from './target-custom.ts';
import type { TargetInput } from './target-custom.ts';

/** The versions written by one publication. */
export interface PublishedVersions {
  targets: number;
  snapshot: number;
  timestamp: number;
}

/**
 * Publishes targets (TUF 4.4): builds targets version N+1 (see buildTargets), signs it, then
 * writes a new snapshot and timestamp.
 * `targetsSigners` may be offline/remote signers; the server need not hold the targets key.
 */
export async function addTargets(
  repo: TufRepository,
  targets: readonly TargetInput[],
  targetsSigners: readonly Signer[],
): Promise<PublishedVersions> {
  const root = await currentRoot(repo);
  // Check authority before copying files so a refused publication leaves no trace.
  assertThreshold(root.signed, 'targets', targetsSigners);
  assertThreshold(root.signed, 'snapshot', [repo.snapshotSigner]);
  assertThreshold(root.signed, 'timestamp', [repo.timestampSigner]);
  const metadata = await buildTargets(repo, targets);
  await signMetadata(metadata, targetsSigners);
  return writeTargetsAndSnapshot(repo, metadata);
}

/**
 * The unsigned targets metadata version N+1: every earlier target plus these (same name
 * replaces), with a fresh expiry. Copies each file given by `path`/`bytes` content-addressed to
 * `targets/<sha256>.<name>` (TUF 5.7.3 consistent snapshots); `sha256` + `length` inputs are
 * stored elsewhere (the artifact store).
 */
export async function buildTargets(
  repo: TufRepository,
  targets: readonly TargetInput[],
): Promise<Metadata<Targets>> {
  const previousVersion = await latestVersion(repo.dir, 'targets');
  const previous =
    previousVersion > 0 ? (await readMetadata(repo.dir, 'targets', previousVersion)).signed : undefined;

  const files: Record<string, TargetFile> = { ...previous?.targets };
  const seen = new Set<string>();
  for (const input of targets) {
    const file = await storeTarget(repo.dir, input);
    if (seen.has(file.path)) throw new ValidationError('duplicate target name', { name: file.path });
    seen.add(file.path);
    files[file.path] = file;
  }

  return new Metadata(
    new Targets({
      version: previousVersion + 1,
      specVersion: SPEC_VERSION,
      expires: expiresAt(repo.clock.now(), repo.lifetimesMs.targets),
      targets: files,
    }),
  );
}

/** Writes signed targets metadata, then a new snapshot and timestamp (TUF 4.5, 4.6). */
export async function writeTargetsAndSnapshot(
  repo: TufRepository,
  metadata: Metadata<Targets>,
): Promise<PublishedVersions> {
  await writeMetadata(repo.dir, 'targets', metadata);
  const snapshot = await publishSnapshot(repo);
  const timestamp = (await readMetadata(repo.dir, 'timestamp', 0)).signed.version;
  return { targets: metadata.signed.version, snapshot, timestamp };
}

async function storeTarget(dir: string, input: TargetInput): Promise<TargetFile> {
  const name = TargetNameSchema.safeParse(input.name);
  if (!name.success) throw new ValidationError('invalid target name', { name: input.name });
  const custom = TargetCustomSchema.safeParse(input.custom);
  if (!custom.success) {
    throw new ValidationError('invalid target custom fields', { issues: custom.error.issues });
  }
  if (input.sha256 !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(input.sha256) || !Number.isSafeInteger(input.length) || input.length < 0) {
      throw new ValidationError('invalid target length or sha256', { name: input.name });
    }
    // The bytes live in the artifact store, which serves them as `targets/<sha256>.<name>`.
    const info = { length: input.length, hashes: { sha256: input.sha256 } };
    return new TargetFile({ path: name.data, ...info, unrecognizedFields: { custom: custom.data } });
  }
  const bytes = input.bytes ?? (await readFile(input.path));
  const info = fileInfo(bytes);
  await writeAtomic(join(targetsDir(dir), `${info.hashes.sha256}.${name.data}`), bytes);
  return new TargetFile({ path: name.data, ...info, unrecognizedFields: { custom: custom.data } });
}
