import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MetaFile, Metadata, Snapshot, Timestamp } from '@tufjs/models';
import { NotFoundError } from '../../infra/errors.ts';
import { fileInfo, latestVersion, metadataFileName, readMetadata, writeMetadata } from './layout.ts';
import { currentRoot } from './repository.ts';
import type { TufRepository } from './repository.ts';
import { SPEC_VERSION } from './root-metadata.ts';
import { assertThreshold, expiresAt, signMetadata } from './sign.ts';

/**
 * Signs a new snapshot (TUF 4.5) listing the newest targets version with its length and hash,
 * then a new timestamp pointing at it. Versions only increase (TUF 5.5.5 rejects rollbacks).
 * Also used after a snapshot key rotation to re-sign with the new key.
 */
export async function publishSnapshot(repo: TufRepository): Promise<number> {
  const targetsVersion = await latestVersion(repo.dir, 'targets');
  if (targetsVersion === 0) throw new NotFoundError('no targets metadata to snapshot');
  const targetsBytes = await readFile(join(repo.dir, metadataFileName('targets', targetsVersion)));
  const version = (await latestVersion(repo.dir, 'snapshot')) + 1;
  const snapshot = new Metadata(
    new Snapshot({
      version,
      specVersion: SPEC_VERSION,
      expires: expiresAt(repo.clock.now(), repo.lifetimesMs.snapshot),
      meta: {
        'targets.json': new MetaFile({ version: targetsVersion, ...fileInfo(targetsBytes) }),
      },
    }),
  );
  const root = await currentRoot(repo);
  assertThreshold(root.signed, 'snapshot', [repo.snapshotSigner]);
  await signMetadata(snapshot, [repo.snapshotSigner]);
  await writeMetadata(repo.dir, 'snapshot', snapshot);
  await writeTimestamp(repo, version);
  return version;
}

/**
 * Re-signs the timestamp with a fresh expiry and the next version, keeping the same snapshot.
 * Run by the server before the 1-day timestamp expires (TUF 4.6; clients check 5.4.4).
 */
export async function refreshTimestamp(repo: TufRepository): Promise<number> {
  const snapshotVersion = await latestVersion(repo.dir, 'snapshot');
  if (snapshotVersion === 0) throw new NotFoundError('no snapshot metadata to timestamp');
  return writeTimestamp(repo, snapshotVersion);
}

async function writeTimestamp(repo: TufRepository, snapshotVersion: number): Promise<number> {
  const snapshotBytes = await readFile(join(repo.dir, metadataFileName('snapshot', snapshotVersion)));
  const version = (await currentTimestampVersion(repo)) + 1;
  const timestamp = new Metadata(
    new Timestamp({
      version,
      specVersion: SPEC_VERSION,
      expires: expiresAt(repo.clock.now(), repo.lifetimesMs.timestamp),
      // TUF 4.6: length and hashes let the client bound and verify the snapshot download.
      snapshotMeta: new MetaFile({ version: snapshotVersion, ...fileInfo(snapshotBytes) }),
    }),
  );
  const root = await currentRoot(repo);
  assertThreshold(root.signed, 'timestamp', [repo.timestampSigner]);
  await signMetadata(timestamp, [repo.timestampSigner]);
  await writeMetadata(repo.dir, 'timestamp', timestamp);
  return version;
}

async function currentTimestampVersion(repo: TufRepository): Promise<number> {
  try {
    return (await readMetadata(repo.dir, 'timestamp', 0)).signed.version;
  } catch (err) {
    if (err instanceof NotFoundError) return 0;
    throw err;
  }
}
