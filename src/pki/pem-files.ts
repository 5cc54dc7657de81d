/**
 * File I/O for the PKI directory. Private keys are owner-only (0600) from the moment they exist:
 * each file is written to a temporary name with its final mode and then renamed over the target,
 * so a crash never leaves a half-written PEM or a key that was briefly world-readable.
 */
import { access, chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

const KEY_MODE = 0o600;
const CERT_MODE = 0o644;
const DIR_MODE = 0o700;

export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates the directory owner-only, and tightens it if it already existed. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode, flag: 'wx' });
  await chmod(tmp, mode); // the umask may have narrowed the mode given to open(2)
  await rename(tmp, path);
}

export function writeKeyFile(path: string, pem: string): Promise<void> {
  return writeAtomic(path, pem, KEY_MODE);
}

export function writeCertFile(path: string, pem: string): Promise<void> {
  return writeAtomic(path, pem, CERT_MODE);
}

/** The file's text, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
