/**
 * The two CA tiers. The root (pathLen 1) only ever signs issuing CAs and can live offline; the
 * issuing CA (pathLen 0) signs server, device and claim certificates and CRLs on the server.
 * RFC 5280 4.2.1.9: basicConstraints critical with cA TRUE; 4.2.1.3: keyCertSign and cRLSign.
 */
import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ValidationError } from '../infra/errors.ts';
import {
  createSelfSignedCa,
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
import { parseDeviceCsr } from './csr.ts';
import { toPem } from './pem.ts';

export const ROOT_VALIDITY_DAYS = 20 * 365;
export const ISSUING_VALIDITY_DAYS = 5 * 365;
export const DEFAULT_ROOT_CN = 'Flotilla Root CA';
export const DEFAULT_ISSUING_CN = 'Flotilla Issuing CA';

/** A self-signed root: pathLen 1, so it can sign issuing CAs but those cannot sign further CAs. */
export function createRootCa(commonName: string, validityDays: number, nowMs: number): Promise<KeyPairPem> {
  return createSelfSignedCa(commonName, validityDays, nowMs);
}

/** Signs an issuing CA certificate (pathLen 0) for `publicKey` with the root. */
export async function signIssuingCert(
  root: SigningCa,
  publicKey: webcrypto.CryptoKey,
  commonName: string,
  validityDays: number,
  nowMs: number,
): Promise<string> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [commonName] }],
    issuer: root.cert.subjectName,
    ...validityWindow(root.cert, validityDays, nowMs),
    publicKey,
    signingKey: root.key,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ...(await keyIdExtensions(publicKey, root.cert)),
    ],
  });
  return toCertPem(cert);
}

/** A new issuing CA key pair and certificate, when the root key is at hand. */
export async function createIssuingCa(
  root: SigningCa,
  commonName: string,
  validityDays: number,
  nowMs: number,
): Promise<KeyPairPem> {
  const keys = await generateKeyPair();
  const certPem = await signIssuingCert(root, keys.publicKey, commonName, validityDays, nowMs);
  return { certPem, keyPem: await exportKeyPem(keys.privateKey) };
}

/** Offline flow, on the server: a new issuing CA key and its CSR for the root's operator. */
export async function createIssuingCsr(commonName: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys,
    signingAlgorithm: SIGNING_ALG,
  });
  return {
    csrPem: toPem(new Uint8Array(csr.rawData), 'CERTIFICATE REQUEST'),
    keyPem: await exportKeyPem(keys.privateKey),
  };
}

/**
 * Offline flow, on the operator's machine: signs an issuing CA CSR with the root. The CSR must
 * pass the same checks as a device CSR (P-256, valid self-signature); only its key and, when no
 * `commonName` is given, its CN are used.
 */
export async function signIssuingCsr(
  root: SigningCa,
  csrPem: string,
  commonName: string | undefined,
  validityDays: number,
  nowMs: number,
): Promise<string> {
  const parsed = await parseDeviceCsr(csrPem);
  if (!parsed.ok)
    throw new ValidationError(`issuing CA request refused: ${parsed.message}`, { reason: parsed.reason });
  const cn = commonName ?? parsed.csr.subject.commonName ?? DEFAULT_ISSUING_CN;
  return signIssuingCert(root, parsed.csr.publicKey, cn, validityDays, nowMs);
}
