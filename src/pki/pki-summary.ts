/** What `flotilla ca show` reports about a data dir's PKI: plain data, printable or JSON. */
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { fleetPkiPaths } from './fleet-paths.ts';
import { fileExists, readOptional } from './pem-files.ts';

export interface CertSummary {
  file: string;
  subject: string;
  issuer: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  expired: boolean;
  fingerprint256: string;
  /** subjectAltName as Node prints it, when present. */
  subjectAltName?: string;
}

export interface CrlSummary {
  file: string;
  thisUpdate: string;
  nextUpdate?: string;
  revokedCount: number;
}

export interface PkiSummary {
  dir: string;
  /** The root private key is in the data dir; production keeps it offline. */
  rootKeyOnline: boolean;
  /** An issuing CA CSR is waiting for the root's signature (import-intermediate). */
  issuingCsrPending: boolean;
  root?: CertSummary;
  issuing?: CertSummary;
  server?: CertSummary;
  crl?: CrlSummary;
}

export async function describeFleetPki(dataDir: string, nowMs: number): Promise<PkiSummary> {
  const paths = fleetPkiPaths(dataDir);
  const crlPem = await readOptional(paths.crl);
  return {
    dir: paths.dir,
    rootKeyOnline: await fileExists(paths.rootKey),
    issuingCsrPending: await fileExists(paths.issuingPendingKey),
    root: await summarizeCert(paths.rootCert, nowMs),
    issuing: await summarizeCert(paths.issuingCert, nowMs),
    server: await summarizeCert(paths.serverCert, nowMs),
    crl: crlPem === undefined ? undefined : summarizeCrl(paths.crl, crlPem),
  };
}

async function summarizeCert(file: string, nowMs: number): Promise<CertSummary | undefined> {
  const pem = await readOptional(file);
  if (pem === undefined) return undefined;
  const cert = new X509Certificate(pem);
  return {
    file,
    subject: cert.subject.replaceAll('\n', ', '),
    issuer: cert.issuer.replaceAll('\n', ', '),
    serialHex: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    expired: Date.parse(cert.validTo) <= nowMs,
    fingerprint256: cert.fingerprint256,
    ...(cert.subjectAltName ? { subjectAltName: cert.subjectAltName } : {}),
  };
}

function summarizeCrl(file: string, pem: string): CrlSummary {
  const crl = new x509.X509Crl(pem);
  return {
    file,
    thisUpdate: crl.thisUpdate.toISOString(),
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.toISOString() } : {}),
    revokedCount: crl.entries.length,
  };
}
