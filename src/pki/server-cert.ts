/**
 * The gateway's TLS server certificate: which names it must carry, and whether the one on disk
 * can still be used (RFC 5280 4.2.1.6: names go in subjectAltName; clients ignore the CN).
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { ServerCertRequest } from './x509.ts';
import { DAY_MS } from './x509.ts';
import { isIssuedBy, keyMatchesCert } from './cert-checks.ts';

export const SERVER_VALIDITY_DAYS = 825;
/** A server certificate this close to expiry is replaced at start-up. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

/** localhost, 127.0.0.1 and ::1 always, plus the configured names sorted into DNS and IP. */
export function serverCertRequest(serverNames: string[]): ServerCertRequest {
  const names = serverNames.map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const ipAddresses = new Set(['127.0.0.1', '::1', ...names.filter((n) => isIP(n) !== 0)]);
  const dnsNames = new Set(['localhost', ...names.filter((n) => isIP(n) === 0)]);
  const firstDns = names.find((n) => isIP(n) === 0);
  return {
    commonName: firstDns ?? 'localhost',
    dnsNames: [...dnsNames],
    ipAddresses: [...ipAddresses],
    validityDays: SERVER_VALIDITY_DAYS,
  };
}

export interface ServerCertCheck {
  /** The server certificate (leaf first) and key read from disk. */
  certPem: string;
  keyPem: string;
  /** The issuing CA certificate that must have signed it. */
  issuingCertPem: string;
  request: ServerCertRequest;
  nowMs: number;
}

/** Why the certificate on disk must be replaced, or undefined when it is still good. */
export function serverCertProblem(check: ServerCertCheck): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(check.certPem);
    if (!keyMatchesCert(check.certPem, check.keyPem)) return 'server.key does not match server.pem';
  } catch {
    return 'server certificate or key is unreadable';
  }
  if (!isIssuedBy(check.certPem, check.issuingCertPem))
    return 'server certificate was not signed by the current issuing CA';
  if (Date.parse(cert.validTo) - RENEW_BEFORE_MS <= check.nowMs) return 'server certificate expires soon';
  const opts = { subject: 'never', wildcards: false } as const;
  const missing = [
    ...check.request.dnsNames.filter((n) => cert.checkHost(n, opts) === undefined),
    ...check.request.ipAddresses.filter((ip) => cert.checkIP(ip) === undefined),
  ];
  return missing.length === 0 ? undefined : `server certificate lacks ${missing.join(', ')}`;
}
