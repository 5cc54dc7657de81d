/**
 * The fleet PKI in `<dataDir>/pki/`: an offline-capable root CA, the issuing CA the server signs
 * with, the gateway's server certificate and the CRL. On a fresh data dir the embedded default
 * creates all of it, leaving the root key in the dir (`rootKeyOnline`) so the server can warn.
 */
import { ConfigError } from '../infra/errors.ts';
import { fleetPkiPaths, type FleetPkiPaths } from './fleet-paths.ts';
import { ensurePrivateDir, fileExists, readOptional, writeCertFile, writeKeyFile } from './pem-files.ts';
import { issueServerCert, loadSigningCa, DAY_MS, type KeyPairPem, type SigningCa } from './x509.ts';
import {
  createIssuingCa,
  createRootCa,
  DEFAULT_ISSUING_CN,
  DEFAULT_ROOT_CN,
  ISSUING_VALIDITY_DAYS,
  ROOT_VALIDITY_DAYS,
} from './ca-certs.ts';
import { chainPem, checkCaCert, checkIssuingCa, checkKeyPair, installIssuingCa } from './issuing-ca-files.ts';
import { serverCertProblem, serverCertRequest } from './server-cert.ts';
import { buildCrl, isCrlSignedBy, type RevokedCert } from './crl.ts';

/** How long a CRL published here stays current when no revocation happens. */
export const CRL_LIFETIME_MS = 7 * DAY_MS;

export interface FleetPki {
  paths: FleetPkiPaths;
  rootCertPem: string;
  issuingCa: SigningCa;
  issuingCertPem: string;
  /** Issuing CA then root. */
  chainPem: string;
  /** `certPem` is the server certificate followed by the issuing CA certificate. */
  server: KeyPairPem;
  /** The root private key is in the data dir: fine for development, not for production. */
  rootKeyOnline: boolean;
}

/** Loads the fleet PKI, creating or re-issuing whatever is missing or no longer fits. */
export async function ensureFleetPki(
  dataDir: string,
  serverNames: string[],
  nowMs: number,
): Promise<FleetPki> {
  const paths = fleetPkiPaths(dataDir);
  await ensurePrivateDir(paths.dir);
  const { rootCertPem, issuing } = await ensureIssuingCa(paths, dataDir, nowMs);
  const issuingCa = await loadSigningCa(issuing);
  const chain = chainPem(issuing.certPem, rootCertPem);
  if ((await readOptional(paths.chain)) !== chain) await writeCertFile(paths.chain, chain);
  const server = await ensureServerCert(paths, issuingCa, issuing.certPem, serverNames, nowMs);
  // A first, empty CRL; an existing one is only replaced after the issuing CA changed, since
  // re-signing it here would drop revocations only the store knows (see publishCrl).
  const crl = await readOptional(paths.crl);
  if (crl === undefined || !(await isCrlSignedBy(crl, issuing.certPem)))
    await writeCertFile(paths.crl, await buildCrl(issuingCa, [], nowMs, nowMs + CRL_LIFETIME_MS));
  return {
    paths,
    rootCertPem,
    issuingCa,
    issuingCertPem: issuing.certPem,
    chainPem: chain,
    server,
    rootKeyOnline: await fileExists(paths.rootKey),
  };
}

/** Signs a CRL with the issuing CA and writes it to crl.pem. Returns the PEM. */
export async function publishCrl(
  pki: FleetPki,
  revoked: RevokedCert[],
  nowMs: number,
  nextUpdateMs: number = nowMs + CRL_LIFETIME_MS,
): Promise<string> {
  const pem = await buildCrl(pki.issuingCa, revoked, nowMs, nextUpdateMs);
  await writeCertFile(pki.paths.crl, pem);
  return pem;
}

async function ensureIssuingCa(
  paths: FleetPkiPaths,
  dataDir: string,
  nowMs: number,
): Promise<{ rootCertPem: string; issuing: KeyPairPem }> {
  let rootCertPem = await readOptional(paths.rootCert);
  const issuingCertPem = await readOptional(paths.issuingCert);
  if (issuingCertPem !== undefined) {
    const keyPem = await readOptional(paths.issuingKey);
    if (rootCertPem === undefined)
      throw new ConfigError(`${paths.rootCert} is missing: copy the root CA certificate there`);
    if (keyPem === undefined) throw new ConfigError(`${paths.issuingKey} is missing`);
    const issuing = { certPem: issuingCertPem, keyPem };
    checkIssuingCa(paths, rootCertPem, issuing, nowMs);
    return { rootCertPem, issuing };
  }

  if (await fileExists(paths.issuingPendingKey))
    throw new ConfigError(
      `an issuing CA request is pending in ${paths.dir}: have it signed by the root ` +
        `(flotilla ca sign-intermediate), then run flotilla ca import-intermediate --data-dir ${dataDir}`,
    );
  let rootKeyPem = await readOptional(paths.rootKey);
  if (rootCertPem === undefined) {
    // Nothing was ever issued here (no issuing CA): a fresh start, or a crash right after the
    // root key was written. Either way a new root is safe.
    const root = await createRootCa(DEFAULT_ROOT_CN, ROOT_VALIDITY_DAYS, nowMs);
    await writeKeyFile(paths.rootKey, root.keyPem);
    await writeCertFile(paths.rootCert, root.certPem);
    ({ certPem: rootCertPem, keyPem: rootKeyPem } = root);
  }
  if (rootKeyPem === undefined)
    throw new ConfigError(
      `${paths.dir} has a root CA certificate but no issuing CA, and the root key is offline. ` +
        `Create the issuing CA on the machine holding the root key: ` +
        `flotilla ca intermediate --root-dir <root dir> --data-dir ${dataDir} ` +
        `(or flotilla ca intermediate-csr, sign-intermediate and import-intermediate)`,
    );
  const root = { certPem: rootCertPem, keyPem: rootKeyPem };
  checkCaCert(root.certPem, paths.rootCert, nowMs);
  checkKeyPair(root, paths.rootCert, paths.rootKey);
  const issuing = await createIssuingCa(
    await loadSigningCa(root),
    DEFAULT_ISSUING_CN,
    ISSUING_VALIDITY_DAYS,
    nowMs,
  );
  await installIssuingCa(paths, issuing, rootCertPem);
  return { rootCertPem, issuing };
}

async function ensureServerCert(
  paths: FleetPkiPaths,
  issuingCa: SigningCa,
  issuingCertPem: string,
  serverNames: string[],
  nowMs: number,
): Promise<KeyPairPem> {
  const request = serverCertRequest(serverNames);
  const certPem = await readOptional(paths.serverCert);
  const keyPem = await readOptional(paths.serverKey);
  if (
    certPem !== undefined &&
    keyPem !== undefined &&
    serverCertProblem({ certPem, keyPem, issuingCertPem, request, nowMs }) === undefined
  )
    return { certPem, keyPem };
  const leaf = await issueServerCert(issuingCa, request, nowMs);
  const server = { certPem: `${leaf.certPem.trimEnd()}\n${issuingCertPem.trimEnd()}\n`, keyPem: leaf.keyPem };
  await writeKeyFile(paths.serverKey, server.keyPem);
  await writeCertFile(paths.serverCert, server.certPem);
  return server;
}
