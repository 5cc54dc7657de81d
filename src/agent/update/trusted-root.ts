/**
 * tuf-js persists metadata with a plain writeFileSync (no fsync, no rename), so a power cut while
 * it stores a new root.json can leave the device without a readable trusted root (TUF 5.2). We
 * keep a durable copy of the last root tuf-js verified and restore it when root.json is unreadable.
 * An older root is safe to restore: the client walks the signed root chain forward again (5.3).
 */
import { join } from 'node:path';
import type { Disk } from './disk.ts';

function isRoot(bytes: Buffer | undefined): bytes is Buffer {
  if (bytes === undefined) return false;
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { signed?: { _type?: unknown } };
    return parsed.signed?._type === 'root';
  } catch {
    return false;
  }
}

/** Before a refresh: make sure root.json is a root, from the backup if need be. */
export async function restoreTrustedRoot(disk: Disk, metadataDir: string, backupPath: string): Promise<void> {
  const rootPath = join(metadataDir, 'root.json');
  const current = await disk.readFile(rootPath);
  const backup = await disk.readFile(backupPath);
  if (isRoot(current)) {
    // The first time, the root shipped with the device becomes the backup.
    if (!isRoot(backup)) await disk.replaceFile(backupPath, current);
    return;
  }
  if (isRoot(backup)) await disk.replaceFile(rootPath, backup);
}

/** After a successful refresh: keep the root tuf-js now trusts. */
export async function backUpTrustedRoot(disk: Disk, metadataDir: string, backupPath: string): Promise<void> {
  const current = await disk.readFile(join(metadataDir, 'root.json'));
  const backup = await disk.readFile(backupPath);
  if (isRoot(current) && (backup === undefined || !current.equals(backup)))
    await disk.replaceFile(backupPath, current);
}
