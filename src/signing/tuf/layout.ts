import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata, MetadataKind } from '@tufjs/models';
import type { Root, Snapshot, Targets, Timestamp } from '@tufjs/models';
import { NotFoundError } from '../../infra/errors.ts';

/**
 * On-disk layout of the repository (TUF 5.3-5.7 with consistent_snapshot = true):
 * `N.root.json`, `N.targets.json`, `N.snapshot.json`, unversioned `timestamp.json`, and target
 * files under `targets/<sha256>.<name>`. `root.json` is a copy of the newest root for bootstrap.
 */
export type VersionedRole = 'root' | 'targets' | 'snapshot';

type MetadataOf = {
  root: Root;
  targets: Targets;
  snapshot: Snapshot;
  timestamp: Timestamp;
};

const KIND = {
  root: MetadataKind.Root,
  targets: MetadataKind.Targets,
  snapshot: MetadataKind.Snapshot,
  timestamp: MetadataKind.Timestamp,
} as const;

export function metadataFileName(role: keyof MetadataOf, version: number): string {
  return role === 'timestamp' ? 'timestamp.json' : `${version}.${role}.json`;
}

export function targetsDir(dir: string): string {
  return join(dir, 'targets');
}

/** Newest version N for which `N.<role>.json` exists, or 0 when none does. */
export async function latestVersion(dir: string, role: VersionedRole): Promise<number> {
  const pattern = new RegExp(`^([1-9][0-9]*)\\.${role}\\.json$`);
  let latest = 0;
  for (const name of await readdir(dir)) {
    const match = pattern.exec(name);
    if (match?.[1]) latest = Math.max(latest, Number(match[1]));
  }
  return latest;
}

/** Reads and parses one metadata file (the models validate its shape). */
export async function readMetadata<R extends keyof MetadataOf>(
  dir: string,
  role: R,
  version: number,
): Promise<Metadata<MetadataOf[R]>> {
  const file = join(dir, metadataFileName(role, version));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new NotFoundError(`TUF metadata ${metadataFileName(role, version)} not found`);
  }
  const data = JSON.parse(text) as Parameters<typeof Root.fromJSON>[0];
  // fromJSON is overloaded per kind; KIND keeps kind and role aligned, and it rejects a file
  // whose `_type` does not match the requested role.
  return Metadata.fromJSON(KIND[role] as MetadataKind.Root, data) as unknown as Metadata<MetadataOf[R]>;
}

/** Length and sha256 of a serialized file, as MetaFile and TargetFile record them (TUF 4.4-4.6). */
export function fileInfo(bytes: Uint8Array): { length: number; hashes: { sha256: string } } {
  return {
    length: bytes.byteLength,
    hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
  };
}

/** Writes atomically (temp file + rename) so a client never reads a half-written file. */
export async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

/** Serializes signed metadata and writes it; returns the bytes so callers can hash them. */
export async function writeMetadata(
  dir: string,
  role: keyof MetadataOf,
  metadata: Metadata<Root | Targets | Snapshot | Timestamp>,
): Promise<Buffer> {
  await mkdir(dir, { recursive: true });
  const bytes = Buffer.from(JSON.stringify(metadata.toJSON(), null, 1));
  await writeAtomic(join(dir, metadataFileName(role, metadata.signed.version)), bytes);
  if (role === 'root') await writeAtomic(join(dir, 'root.json'), bytes);
  return bytes;
}
