/**
 * Certificate revocation lists (RFC 5280 section 5), signed by the issuing CA that issued the
 * revoked certificates. Version 2 with the two extensions 5.2 requires of conforming CAs:
 * authorityKeyIdentifier (5.2.1) and cRLNumber (5.2.3).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { SIGNING_ALG, type SigningCa } from './x509.ts';
import { toPem } from './pem.ts';

/** RFC 5280 5.3.1 CRLReason; 'unspecified' is written as no reason code, as 5.3.1 recommends. */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'privilegeWithdrawn';

export interface RevokedCert {
  /** Certificate serial in hex, any case, with or without leading zero bytes. */
  serialHex: string;
  revokedAt: Date;
  reason?: RevocationReason;
}

const CRL_NUMBER_OID = '2.5.29.20';

/**
 * Builds a PEM CRL. `nextUpdateMs` is the absolute time (ms since epoch) by which the next CRL
 * will be published. `crlNumber` must increase with every CRL (5.2.3); by default it is
 * `nowMs`, which does as long as the clock does not go backwards.
 */
export async function buildCrl(
  ca: SigningCa,
  revoked: RevokedCert[],
  nowMs: number,
  nextUpdateMs: number,
  crlNumber: bigint = BigInt(Math.floor(nowMs)),
): Promise<string> {
  const ski = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate: new Date(nowMs),
    nextUpdate: new Date(nextUpdateMs),
    signingKey: ca.key,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      ski
        ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
        : await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
      new x509.Extension(CRL_NUMBER_OID, false, derInteger(crlNumber)),
    ],
    entries: revoked.map((r) => ({
      serialNumber: normalizeSerialHex(r.serialHex),
      revocationDate: r.revokedAt,
      ...(r.reason && r.reason !== 'unspecified' ? { reason: x509.X509CrlReason[r.reason] } : {}),
    })),
  });
  // RFC 7468 section 5 labels CRLs "X509 CRL"; @peculiar/x509 writes "CRL", which openssl rejects.
  return toPem(new Uint8Array(crl.rawData), 'X509 CRL');
}

/** Lower-case hex of the DER INTEGER content: minimal, and with a 00 byte if the top bit is set. */
export function normalizeSerialHex(serialHex: string): string {
  const hex = serialHex.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) throw new RangeError(`serial ${JSON.stringify(serialHex)} is not hex`);
  let even = (hex.length % 2 ? `0${hex}` : hex).replace(/^(00)+/, '');
  if (even === '') even = '00';
  return /^[89a-f]/.test(even) ? `00${even}` : even;
}

/** DER encoding of a non-negative INTEGER (X.690 8.3), for the cRLNumber extension. */
function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('CRL number must not be negative');
  const content = Buffer.from(normalizeSerialHex(value.toString(16)), 'hex');
  if (content.length > 20) throw new RangeError('CRL number longer than 20 octets (RFC 5280 5.2.3)');
  return Uint8Array.from([0x02, content.length, ...content]);
}

/** True when `crlPem` parses and is signed by the CA certificate `issuerCertPem`. */
export async function isCrlSignedBy(crlPem: string, issuerCertPem: string): Promise<boolean> {
  try {
    return await new x509.X509Crl(crlPem).verify({ publicKey: new x509.X509Certificate(issuerCertPem) });
  } catch {
    return false;
  }
}
