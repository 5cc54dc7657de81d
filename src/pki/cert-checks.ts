/** Small certificate checks on Node's own X.509 parser (independent of the one that issues). */
import { X509Certificate, createPublicKey } from 'node:crypto';

/** True when `keyPem` (PKCS#8) is the private half of the first certificate in `certPem`. */
export function keyMatchesCert(certPem: string, keyPem: string): boolean {
  const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return fromKey.equals(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }));
}

/** True when `issuerPem`'s key signed `certPem` and the names line up (RFC 5280 6.1.3 (a)). */
export function isIssuedBy(certPem: string, issuerPem: string): boolean {
  const cert = new X509Certificate(certPem);
  const issuer = new X509Certificate(issuerPem);
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}
