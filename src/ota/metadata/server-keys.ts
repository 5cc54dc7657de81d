/**
 * The server's signing keys in `<dataDir>/tuf/keys/` (directory 0700, files 0600): one Ed25519
 * PKCS#8 PEM per TUF role (`root.pem`, `targets.pem`, `snapshot.pem`, `timestamp.pem`) and the
 * minisign image-signing key (`minisign.key`, Flotilla's key-file format, exportable with
 * `flotilla keys export-public`). The root and targets files may be removed (kept offline).
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError } from '../../infra/errors.ts';
import { ensurePrivateDir, fileExists, readOptional, writeKeyFile } from '../../pki/pem-files.ts';
import { generateSigningKey, type SigningKey } from '../../signing/ed25519.ts';
import { readSigningKeyFile, writeSigningKeyFile } from '../../signing/key-file.ts';
import type { TopLevelRole } from '../../signing/tuf/sign.ts';

export const TUF_ROLES: readonly TopLevelRole[] = ['root', 'targets', 'snapshot', 'timestamp'];

/** The role keys present on disk; snapshot and timestamp are always online (TUF 6.1). */
export interface RoleKeys {
  root?: KeyObject;
  targets?: KeyObject;
  snapshot: KeyObject;
  timestamp: KeyObject;
}

export function roleKeyPath(keysDir: string, role: TopLevelRole): string {
  return join(keysDir, `${role}.pem`);
}

/** Generates a key for every role whose file is missing (first start of a new repository). */
export async function generateRoleKeys(keysDir: string): Promise<void> {
  await ensurePrivateDir(keysDir);
  for (const role of TUF_ROLES) {
    const path = roleKeyPath(keysDir, role);
    if (await fileExists(path)) continue;
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeKeyFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  }
}

/** Reads the role keys; ConfigError when an online role's key is missing. */
export async function readRoleKeys(keysDir: string): Promise<RoleKeys> {
  const read = async (role: TopLevelRole): Promise<KeyObject | undefined> => {
    const pem = await readOptional(roleKeyPath(keysDir, role));
    return pem === undefined ? undefined : createPrivateKey(pem);
  };
  const [root, targets, snapshot, timestamp] = await Promise.all(TUF_ROLES.map(read));
  if (!snapshot || !timestamp) {
    throw new ConfigError(`the TUF snapshot and timestamp keys must be in ${keysDir}`);
  }
  return { ...(root ? { root } : {}), ...(targets ? { targets } : {}), snapshot, timestamp };
}

/** The server's minisign key, generated (unencrypted, 0600) on first start. */
export async function loadOrCreateMinisignKey(keysDir: string): Promise<SigningKey> {
  await ensurePrivateDir(keysDir);
  const path = join(keysDir, 'minisign.key');
  if (!(await fileExists(path))) await writeSigningKeyFile(path, generateSigningKey(), undefined);
  return readSigningKeyFile(path, undefined);
}
