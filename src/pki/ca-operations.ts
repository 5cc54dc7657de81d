/**
 * The operator's CA procedures behind `flotilla ca …`, on files. The root key is only ever read
 * from the root dir given on the command line and never copied into a data dir.
 */
import { unlink } from 'node:fs/promises';
import { ConfigError, ConflictError, ValidationError } from '../infra/errors.ts';
import { fleetPkiPaths, pkiDirPaths, type FleetPkiPaths } from './fleet-paths.ts';
import { ensurePrivateDir, fileExists, readOptional, writeCertFile, writeKeyFile } from './pem-files.ts';
import { loadSigningCa, type SigningCa } from './x509.ts';
import { createIssuingCa, createIssuingCsr, createRootCa, signIssuingCsr } from './ca-certs.ts';
import {
  chainPem,
  checkCaCert,
  checkIssuingCa,
  checkKeyPair,
  installIssuingCa,
  sameCert,
} from './issuing-ca-files.ts';
import { certificatePems } from './pem.ts';
import { isIssuedBy, keyMatchesCert } from './cert-checks.ts';

export interface CaOptions {
  commonName: string;
  validityDays: number;
}

/** Creates a root CA in `dir` (root-ca.pem, root-ca.key); refuses to overwrite one. */
export async function initRootDir(dir: string, opts: CaOptions, nowMs: number): Promise<FleetPkiPaths> {
  const paths = pkiDirPaths(dir);
  if ((await fileExists(paths.rootCert)) || (await fileExists(paths.rootKey)))
    throw new ConflictError(`${dir} already holds a root CA; refusing to overwrite it`);
  await ensurePrivateDir(dir);
  const root = await createRootCa(opts.commonName, opts.validityDays, nowMs);
  await writeKeyFile(paths.rootKey, root.keyPem);
  await writeCertFile(paths.rootCert, root.certPem);
  return paths;
}

/** The root CA (certificate and key) from an operator's root dir. */
export async function loadRootDir(dir: string, nowMs: number): Promise<{ root: SigningCa; certPem: string }> {
  const paths = pkiDirPaths(dir);
  const certPem = await readOptional(paths.rootCert);
  const keyPem = await readOptional(paths.rootKey);
  if (certPem === undefined || keyPem === undefined)
    throw new ConfigError(`${dir} must hold root-ca.pem and root-ca.key (see flotilla ca init)`);
  checkCaCert(certPem, paths.rootCert, nowMs);
  checkKeyPair({ certPem, keyPem }, paths.rootCert, paths.rootKey);
  return { root: await loadSigningCa({ certPem, keyPem }), certPem };
}

/** Writes root-ca.pem into the data dir, or checks the one there is the same root. */
async function installRootCert(paths: FleetPkiPaths, rootCertPem: string): Promise<void> {
  const existing = await readOptional(paths.rootCert);
  if (existing === undefined) return writeCertFile(paths.rootCert, rootCertPem);
  if (!sameCert(existing, rootCertPem))
    throw new ConflictError(`${paths.rootCert} is a different root CA; refusing to mix two roots`);
}

/** Creates the data dir's issuing CA, signed by the root in `rootDir` (root key at hand). */
export async function createIntermediate(
  rootDir: string,
  dataDir: string,
  opts: CaOptions & { replace: boolean },
  nowMs: number,
): Promise<FleetPkiPaths> {
  const { root, certPem: rootCertPem } = await loadRootDir(rootDir, nowMs);
  const paths = fleetPkiPaths(dataDir);
  await ensurePrivateDir(paths.dir);
  if (!opts.replace && (await fileExists(paths.issuingCert)))
    throw new ConflictError(`${paths.issuingCert} exists; pass --replace to rotate the issuing CA`);
  await installRootCert(paths, rootCertPem);
  const issuing = await createIssuingCa(root, opts.commonName, opts.validityDays, nowMs);
  await installIssuingCa(paths, issuing, rootCertPem);
  return paths;
}

/** Offline flow step 1 (server): a pending issuing CA key in the data dir; returns its CSR. */
export async function createIntermediateCsr(dataDir: string, commonName: string): Promise<string> {
  const paths = fleetPkiPaths(dataDir);
  await ensurePrivateDir(paths.dir);
  const { csrPem, keyPem } = await createIssuingCsr(commonName);
  await writeKeyFile(paths.issuingPendingKey, keyPem);
  return csrPem;
}

/** Offline flow step 2 (root machine): the issuing CA certificate followed by the root's. */
export async function signIntermediateCsr(
  rootDir: string,
  csrPem: string,
  opts: { commonName?: string; validityDays: number },
  nowMs: number,
): Promise<string> {
  const { root, certPem: rootCertPem } = await loadRootDir(rootDir, nowMs);
  const certPem = await signIssuingCsr(root, csrPem, opts.commonName, opts.validityDays, nowMs);
  return chainPem(certPem, rootCertPem);
}

/**
 * Offline flow step 3 (server): installs the signed issuing CA certificate after checking that
 * it belongs to the pending key (or the current one) and chains to root-ca.pem. `certPem` may
 * be the chain sign-intermediate writes; its root is installed if the data dir has none yet.
 */
export async function importIssuingCert(
  dataDir: string,
  certPem: string,
  nowMs: number,
  rootCertPem?: string,
): Promise<FleetPkiPaths> {
  const [issuingPem, ...rest] = certificatePems(certPem);
  if (issuingPem === undefined) throw new ValidationError('no certificate to import');
  const paths = fleetPkiPaths(dataDir);
  const offeredRoot = rootCertPem ?? rest.find((pem) => isIssuedBy(pem, pem));
  const root = (await readOptional(paths.rootCert)) ?? offeredRoot;
  if (root === undefined)
    throw new ConfigError(`${paths.rootCert} is missing: pass the root certificate with --root-cert`);
  if (offeredRoot !== undefined && !sameCert(root, offeredRoot))
    throw new ConflictError(`the offered root CA is not the one in ${paths.rootCert}`);
  if (!isIssuedBy(issuingPem, root))
    throw new ValidationError(`the certificate was not issued by the root CA in ${paths.rootCert}`);

  const pending = await readOptional(paths.issuingPendingKey);
  const current = await readOptional(paths.issuingKey);
  const keyPem = [pending, current].find((k) => k !== undefined && keyMatchesCert(issuingPem, k));
  if (keyPem === undefined)
    throw new ValidationError(
      `the certificate is not for the issuing CA key in ${paths.dir} (run flotilla ca intermediate-csr first)`,
    );
  const issuing = { certPem: issuingPem, keyPem };
  checkIssuingCa(paths, root, issuing, nowMs);
  await installRootCert(paths, root);
  await installIssuingCa(paths, issuing, root);
  if (keyPem === pending) await unlink(paths.issuingPendingKey);
  return paths;
}
