/**
 * Reading, checking and installing the CA certificates in a PKI directory. Every problem an
 * operator can fix is a ConfigError whose message names the file and the command to run.
 */
import { X509Certificate } from 'node:crypto';
import { ConfigError } from '../infra/errors.ts';
import type { FleetPkiPaths } from './fleet-paths.ts';
import { isIssuedBy, keyMatchesCert } from './cert-checks.ts';
import { writeCertFile, writeKeyFile } from './pem-files.ts';
import type { KeyPairPem } from './x509.ts';

/** Throws unless `certPem` is a CA certificate valid at `nowMs`. */
export function checkCaCert(certPem: string, file: string, nowMs: number): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new ConfigError(`${file} is not a PEM certificate`);
  }
  if (!cert.ca) throw new ConfigError(`${file} is not a CA certificate`);
  if (Date.parse(cert.validTo) <= nowMs) throw new ConfigError(`${file} expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > nowMs)
    throw new ConfigError(`${file} is not valid before ${cert.validFrom}`);
}

/** Throws unless `keyPem` belongs to `certPem`. */
export function checkKeyPair(pair: KeyPairPem, certFile: string, keyFile: string): void {
  let matches: boolean;
  try {
    matches = keyMatchesCert(pair.certPem, pair.keyPem);
  } catch {
    throw new ConfigError(`${keyFile} is not a PKCS#8 PEM private key`);
  }
  if (!matches) throw new ConfigError(`${keyFile} is not the key of ${certFile}`);
}

/** Throws unless the issuing CA in `paths` is usable under the root, with its own key. */
export function checkIssuingCa(
  paths: FleetPkiPaths,
  rootCertPem: string,
  issuing: KeyPairPem,
  nowMs: number,
): void {
  checkCaCert(rootCertPem, paths.rootCert, nowMs);
  checkCaCert(issuing.certPem, paths.issuingCert, nowMs);
  checkKeyPair(issuing, paths.issuingCert, paths.issuingKey);
  if (!isIssuedBy(issuing.certPem, rootCertPem))
    throw new ConfigError(`${paths.issuingCert} was not issued by the root CA in ${paths.rootCert}`);
}

/** Issuing CA, then root: the chain a peer needs above a leaf (RFC 5246 7.4.2 order). */
export function chainPem(issuingCertPem: string, rootCertPem: string): string {
  return `${issuingCertPem.trimEnd()}\n${rootCertPem.trimEnd()}\n`;
}

/** Installs an issuing CA: key first, then its certificate, then chain.pem. */
export async function installIssuingCa(
  paths: FleetPkiPaths,
  issuing: KeyPairPem,
  rootCertPem: string,
): Promise<void> {
  await writeKeyFile(paths.issuingKey, issuing.keyPem);
  await writeCertFile(paths.issuingCert, issuing.certPem);
  await writeCertFile(paths.chain, chainPem(issuing.certPem, rootCertPem));
}

/** True when both PEMs hold the same certificate. */
export function sameCert(a: string, b: string): boolean {
  return new X509Certificate(a).raw.equals(new X509Certificate(b).raw);
}
