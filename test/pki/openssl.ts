/** Test helpers: run the real openssl CLI (a verifier nobody here wrote) in a temp dir. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const execFileAsync = promisify(execFile);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs openssl; resolves with the exit code instead of throwing on failure. */
export async function openssl(args: string[], cwd?: string): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync('openssl', args, { cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Like openssl() but fails the test when openssl does. */
export async function opensslOk(args: string[], cwd?: string): Promise<RunResult> {
  const result = await openssl(args, cwd);
  if (result.code !== 0)
    throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result;
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A CSR made by openssl req for a new key; `keyArgs` picks how the key is generated. */
export async function opensslCsr(
  dir: string,
  name: string,
  keyArgs: string[],
  subject = `/CN=${name}/serialNumber=${name}`,
): Promise<string> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await opensslOk([...keyArgs, '-out', key]);
  await opensslOk(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  return readFile(csr, 'utf8');
}

export const EC_PARAM_P256 = ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'];
export const GENPKEY_P256 = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
export const EC_PARAM_P384 = ['ecparam', '-name', 'secp384r1', '-genkey', '-noout'];
export const GENPKEY_RSA = ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];

export async function writeTemp(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
