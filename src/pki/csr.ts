/**
 * PKCS#10 certificate requests (RFC 2986) from devices. A CSR is untrusted input: it is
 * size-capped before parsing, must be a single PEM block, must carry an EC P-256 key and must
 * be signed by that key (proof of possession). Only the key and the claimed subject are read;
 * whoever issues the certificate decides its subject and extensions.
 */
import 'reflect-metadata';
import { createHash, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { MAX_CSR_BYTES } from '../contracts/provisioning-messages.ts';
import { SIGNING_ALG } from './x509.ts';
import { splitPem } from './pem.ts';

export type CsrRefusalReason = 'invalid_csr' | 'unsupported_key';

export interface ParsedCsr {
  /** The requester's public key, importable for ECDSA P-256 verification. */
  publicKey: webcrypto.CryptoKey;
  /** What the requester asked for; informative only (exactly-one-value attributes). */
  subject: { commonName?: string; serialNumber?: string };
  /** Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo: identifies the key. */
  spkiSha256: string;
}

export type CsrParseResult =
  { ok: true; csr: ParsedCsr } | { ok: false; reason: CsrRefusalReason; message: string };

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const SERIAL_NUMBER_OID = '2.5.4.5';

const refuse = (reason: CsrRefusalReason, message: string): CsrParseResult => ({
  ok: false,
  reason,
  message,
});

/** Parses and checks a device's PEM CSR; never throws on bad input. */
export async function parseDeviceCsr(pem: string): Promise<CsrParseResult> {
  if (Buffer.byteLength(pem, 'utf8') > MAX_CSR_BYTES)
    return refuse('invalid_csr', `CSR is larger than ${MAX_CSR_BYTES} bytes`);
  const blocks = splitPem(pem);
  if (!blocks || blocks.length !== 1) return refuse('invalid_csr', 'expected exactly one PEM block');
  const [block] = blocks;
  if (!block || !CSR_LABELS.has(block.label))
    return refuse('invalid_csr', 'PEM block is not a CERTIFICATE REQUEST');

  let csr: x509.Pkcs10CertificateRequest;
  let spki: Buffer;
  try {
    csr = new x509.Pkcs10CertificateRequest(block.der);
    spki = Buffer.from(csr.publicKey.rawData);
  } catch {
    return refuse('invalid_csr', 'CSR is not valid PKCS#10 DER');
  }

  const keyProblem = p256Problem(spki);
  if (keyProblem) return refuse('unsupported_key', keyProblem);

  let publicKey: webcrypto.CryptoKey;
  try {
    publicKey = await webcrypto.subtle.importKey('spki', spki, SIGNING_ALG, true, ['verify']);
    // Proof of possession: the request is signed by the private half of the key it carries.
    if (!(await csr.verify())) return refuse('invalid_csr', 'CSR signature does not verify');
  } catch {
    return refuse('invalid_csr', 'CSR signature cannot be checked');
  }

  return {
    ok: true,
    csr: {
      publicKey,
      subject: {
        commonName: single(csr.subjectName, 'CN'),
        serialNumber: single(csr.subjectName, SERIAL_NUMBER_OID),
      },
      spkiSha256: createHash('sha256').update(spki).digest('hex'),
    },
  };
}

/** Why the SubjectPublicKeyInfo is not an EC P-256 key, or undefined when it is. */
function p256Problem(spki: Buffer): string | undefined {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec') return `key type ${key.asymmetricKeyType ?? 'unknown'} is not EC`;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? undefined : `curve ${curve ?? 'unknown'} is not P-256`;
  } catch {
    return 'public key algorithm is not supported';
  }
}

function single(name: x509.Name, field: string): string | undefined {
  const values = name.getField(field);
  return values.length === 1 ? values[0] : undefined;
}
