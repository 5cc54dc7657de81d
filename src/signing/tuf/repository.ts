import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Metadata, Root } from '@tufjs/models';
import type { Clock } from '../../infra/clock.ts';
import { ConflictError } from '../../infra/errors.ts';
import { latestVersion, readMetadata, writeMetadata } from './layout.ts';
import { buildRoot } from './root-metadata.ts';
import { assertThreshold, expiresAt, signMetadata } from './sign.ts';
import type { TopLevelRole } from './sign.ts';
import { tufKey } from './signer.ts';
import type { Signer } from './signer.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Metadata lifetimes in milliseconds per role (TUF 4.2 "expires"). */
export type RoleLifetimesMs = Record<TopLevelRole, number>;

/** Short lifetimes for online roles bound how long a freeze attack can last (TUF 1.5.2). */
export const DEFAULT_LIFETIMES_MS: RoleLifetimesMs = {
  root: 365 * DAY_MS,
  targets: 90 * DAY_MS,
  snapshot: 7 * DAY_MS,
  timestamp: 1 * DAY_MS,
};

/** What the server holds: the online snapshot and timestamp signers plus a clock. */
export interface RepositoryDeps {
  clock: Clock;
  snapshotSigner: Signer;
  timestampSigner: Signer;
  lifetimesMs?: Partial<RoleLifetimesMs>;
}

/** A handle on a repository directory; all state lives in the files. */
export interface TufRepository {
  readonly dir: string;
  readonly clock: Clock;
  readonly snapshotSigner: Signer;
  readonly timestampSigner: Signer;
  readonly lifetimesMs: RoleLifetimesMs;
}

export interface CreateRepositoryOptions {
  /** Public keys per role; root and targets private keys may stay offline. */
  rootKeys: readonly KeyObject[];
  targetsKeys: readonly KeyObject[];
  snapshotKey: KeyObject;
  timestampKey: KeyObject;
  /** Signature thresholds per role (TUF 4.3); default 1 each. */
  thresholds?: Partial<Record<TopLevelRole, number>>;
  /** At least the root threshold of signers for `rootKeys`, to sign `1.root.json`. */
  rootSigners: readonly Signer[];
}

/** Opens an existing repository directory; no I/O until an operation runs. */
export function openRepository(dir: string, deps: RepositoryDeps): TufRepository {
  return {
    dir,
    clock: deps.clock,
    snapshotSigner: deps.snapshotSigner,
    timestampSigner: deps.timestampSigner,
    lifetimesMs: { ...DEFAULT_LIFETIMES_MS, ...deps.lifetimesMs },
  };
}

/** Creates a repository by writing the signed `1.root.json` (TUF 4.3). */
export async function createRepository(
  dir: string,
  options: CreateRepositoryOptions,
  deps: RepositoryDeps,
): Promise<TufRepository> {
  const repo = openRepository(dir, deps);
  await mkdir(join(dir, 'targets'), { recursive: true });
  if (await exists(join(dir, '1.root.json'))) {
    throw new ConflictError('a TUF repository already exists in this directory', { dir });
  }
  const thresholds = { root: 1, targets: 1, snapshot: 1, timestamp: 1, ...options.thresholds };
  const root = buildRoot({
    version: 1,
    expires: expiresAt(repo.clock.now(), repo.lifetimesMs.root),
    keys: {
      root: options.rootKeys.map(tufKey),
      targets: options.targetsKeys.map(tufKey),
      snapshot: [tufKey(options.snapshotKey)],
      timestamp: [tufKey(options.timestampKey)],
    },
    thresholds,
  });
  assertThreshold(root.signed, 'root', options.rootSigners);
  await signMetadata(root, options.rootSigners);
  await writeMetadata(dir, 'root', root);
  return repo;
}

/** The newest root, which decides who may sign what. */
export async function currentRoot(repo: TufRepository): Promise<Metadata<Root>> {
  return readMetadata(repo.dir, 'root', await latestVersion(repo.dir, 'root'));
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
