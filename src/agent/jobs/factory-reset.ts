/**
 * Factory reset of the agent's state dir: every file and directory is removed except the device
 * identity (certificate, key, CA chain, server address: identity-store.ts) unless `wipeIdentity`,
 * and the execution book (so the reset is reported once, not run again on a duplicate notify).
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { IDENTITY_FILES } from '../identity-store.ts';

/** The state dir's subdirectory holding the execution book. */
export const JOBS_DIR = 'jobs';

export async function wipeStateDir(
  stateDir: string,
  options: { wipeIdentity: boolean },
): Promise<{ removed: string[]; kept: string[] }> {
  const identity = new Set<string>(Object.values(IDENTITY_FILES));
  const removed: string[] = [];
  const kept: string[] = [];
  for (const name of (await readdir(stateDir)).sort()) {
    if (name === JOBS_DIR || (!options.wipeIdentity && identity.has(name))) {
      kept.push(name);
      continue;
    }
    await rm(join(stateDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return { removed, kept };
}
