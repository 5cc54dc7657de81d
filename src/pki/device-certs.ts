/**
 * Certificates for devices. The subject is always ours (device id and serial from the
 * registry), never copied from the CSR; the CSR only contributes its already-verified key.
 */
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  exportKeyPem,
  generateKeyPair,
  keyIdExtensions,
  randomSerial,
  SIGNING_ALG,
  toCertPem,
  validityWindow,
  type KeyPairPem,
  type SigningCa,
} from './x509.ts';
import { CLAIM_OU, claimCommonName } from './claim-subject.ts';

const SERIAL_NUMBER_OID = '2.5.4.5';

export interface IssuedCert {
  certPem: string;
  /** Upper-case hex, as Node's TLS `PeerCertificate.serialNumber` reports it. */
  serialHex: string;
  /** `AB:CD:…`, as Node's `PeerCertificate.fingerprint256` reports it. */
  fingerprint256: string;
  notAfter: Date;
}

export interface DeviceCsrIssueRequest {
  deviceId: string;
  /** Goes into the subject's serialNumber attribute (OID 2.5.4.5). */
  serial: string;
  /** The key from a verified CSR (see parseDeviceCsr). */
  publicKey: webcrypto.CryptoKey;
  validityDays: number;
}

/** End-entity TLS client certificate extensions (RFC 5280 4.2.1.9, 4.2.1.3, 4.2.1.12). */
async function clientExtensions(subjectKey: webcrypto.CryptoKey, ca: SigningCa): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ...(await keyIdExtensions(subjectKey, ca.cert)),
  ];
}

async function issueClientCert(
  ca: SigningCa,
  subject: x509.JsonName,
  publicKey: webcrypto.CryptoKey,
  validityDays: number,
  nowMs: number,
): Promise<IssuedCert> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca.cert.subjectName,
    ...validityWindow(ca.cert, validityDays, nowMs),
    publicKey,
    signingKey: ca.key,
    signingAlgorithm: SIGNING_ALG,
    extensions: await clientExtensions(publicKey, ca),
  });
  const certPem = toCertPem(cert);
  const parsed = new X509Certificate(certPem);
  return {
    certPem,
    serialHex: parsed.serialNumber,
    fingerprint256: parsed.fingerprint256,
    notAfter: cert.notAfter,
  };
}

/** A device certificate for a key the device generated itself (it sent a CSR). */
export function issueDeviceCertFromCsr(
  ca: SigningCa,
  req: DeviceCsrIssueRequest,
  nowMs: number,
): Promise<IssuedCert> {
  const subject: x509.JsonName = [{ CN: [req.deviceId] }, { [SERIAL_NUMBER_OID]: [req.serial] }];
  return issueClientCert(ca, subject, req.publicKey, req.validityDays, nowMs);
}

export interface ClaimCertRequest {
  batchId: string;
  validityDays: number;
}

/** A batch's shared claim certificate and key: CN=claim-<batchId>, OU=flotilla-claim, clientAuth. */
export async function issueClaimCert(
  ca: SigningCa,
  req: ClaimCertRequest,
  nowMs: number,
): Promise<KeyPairPem & { serialHex: string; notAfter: Date }> {
  const keys = await generateKeyPair();
  const subject: x509.JsonName = [{ OU: [CLAIM_OU] }, { CN: [claimCommonName(req.batchId)] }];
  const issued = await issueClientCert(ca, subject, keys.publicKey, req.validityDays, nowMs);
  return {
    certPem: issued.certPem,
    keyPem: await exportKeyPem(keys.privateKey),
    serialHex: issued.serialHex,
    notAfter: issued.notAfter,
  };
}
