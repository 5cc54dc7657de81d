/**
 * Certificate issuing on @peculiar/x509 over Node's WebCrypto: ECDSA P-256, random 128-bit
 * serials, the extensions RFC 5280 asks for (SKI/AKI, basic constraints, key usage, EKU).
 */
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { toPem } from './pem.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Every key and signature in the fleet PKI: ECDSA P-256 with SHA-256. */
export const SIGNING_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates start a minute in the past so a peer with a slightly slow clock accepts them. */
const BACKDATE_MS = 60_000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** A CA that can sign: its certificate and its private key. */
export interface SigningCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(SIGNING_ALG, true, ['sign', 'verify']);
}

/** 16 random bytes with the top bit cleared: a positive 128-bit serial (RFC 5280 4.1.2.2). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/**
 * SKI of the new certificate and AKI naming the issuer's key. The AKI repeats the issuer's own
 * SKI when it has one, as RFC 5280 4.2.1.1 asks, so chains built by any verifier line up.
 */
export async function keyIdExtensions(
  subjectKey: CryptoKey,
  issuer: x509.X509Certificate,
): Promise<x509.Extension[]> {
  const issuerSki = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  return [
    await x509.SubjectKeyIdentifierExtension.create(subjectKey),
    issuerSki
      ? new x509.AuthorityKeyIdentifierExtension(issuerSki.keyId)
      : await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
  ];
}

/**
 * notBefore/notAfter for a certificate signed by `issuer`: never outliving the issuer, since
 * a chain is only valid while every certificate in it is (RFC 5280 6.1.3 (a)(2)).
 */
export function validityWindow(
  issuer: x509.X509Certificate,
  validityDays: number,
  nowMs: number,
): { notBefore: Date; notAfter: Date } {
  const notAfterMs = Math.min(nowMs + validityDays * DAY_MS, issuer.notAfter.getTime());
  return { notBefore: new Date(nowMs - BACKDATE_MS), notAfter: new Date(notAfterMs) };
}

/** PEM with 64-column lines and a final newline, so files and concatenated chains look alike. */
export function toCertPem(cert: x509.X509Certificate): string {
  return toPem(new Uint8Array(cert.rawData), 'CERTIFICATE');
}

export async function exportKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return toPem(new Uint8Array(pkcs8), 'PRIVATE KEY');
}

export async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error('no PEM block in private key');
  return webcrypto.subtle.importKey('pkcs8', der, SIGNING_ALG, true, ['sign']);
}

export async function loadSigningCa(pair: KeyPairPem): Promise<SigningCa> {
  return { cert: new x509.X509Certificate(pair.certPem), key: await importKeyPem(pair.keyPem) };
}

/** A self-signed CA certificate (pathLen 1 so it can sign an issuing intermediate later). */
export async function createSelfSignedCa(
  commonName: string,
  validityDays: number,
  nowMs: number,
): Promise<KeyPairPem> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(nowMs - BACKDATE_MS),
    notAfter: new Date(nowMs + validityDays * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: toCertPem(cert), keyPem: await exportKeyPem(keys.privateKey) };
}

export interface ServerCertRequest {
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName. */
  dnsNames: string[];
  ipAddresses: string[];
  validityDays: number;
}

export async function issueServerCert(
  ca: SigningCa,
  req: ServerCertRequest,
  nowMs: number,
): Promise<KeyPairPem> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [req.commonName] }],
    issuer: ca.cert.subjectName,
    ...validityWindow(ca.cert, req.validityDays, nowMs),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...req.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...req.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      ...(await keyIdExtensions(keys.publicKey, ca.cert)),
    ],
  });
  return { certPem: toCertPem(cert), keyPem: await exportKeyPem(keys.privateKey) };
}

export interface DeviceCertRequest {
  deviceId: string;
  /** Goes into the subject's serialNumber attribute (OID 2.5.4.5). */
  serial: string;
  validityDays: number;
}

/** A device client certificate: CN = device id, CA false, digitalSignature, clientAuth. */
export async function issueDeviceCert(
  ca: SigningCa,
  req: DeviceCertRequest,
  nowMs: number,
): Promise<KeyPairPem> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [req.deviceId] }, { '2.5.4.5': [req.serial] }],
    issuer: ca.cert.subjectName,
    ...validityWindow(ca.cert, req.validityDays, nowMs),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ...(await keyIdExtensions(keys.publicKey, ca.cert)),
    ],
  });
  return { certPem: toCertPem(cert), keyPem: await exportKeyPem(keys.privateKey) };
}
