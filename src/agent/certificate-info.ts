/** What the agent reads from its own certificate: subject names and validity. Pure. */
import { X509Certificate, createPrivateKey } from 'node:crypto';

export interface CertificateInfo {
  commonName: string | undefined;
  /** The subject's serialNumber attribute (OID 2.5.4.5): the device serial. */
  serialNumber: string | undefined;
  notBeforeMs: number;
  notAfterMs: number;
}

/** Reads the first certificate of `certPem` (a device certificate may be followed by its CA). Throws on bad PEM. */
export function readCertificateInfo(certPem: string): CertificateInfo {
  const cert = new X509Certificate(certPem);
  return {
    commonName: subjectAttribute(cert.subject, 'CN'),
    serialNumber: subjectAttribute(cert.subject, 'serialNumber'),
    notBeforeMs: Date.parse(cert.validFrom),
    notAfterMs: Date.parse(cert.validTo),
  };
}

/** The serial the server knows the device by: serialNumber, else the CN (the server's rule). */
export function certificateSerial(info: CertificateInfo): string | undefined {
  return info.serialNumber ?? info.commonName;
}

/** True when `keyPem` is the private half of the first certificate in `certPem`; false on bad PEM. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Node renders a subject as `key=value` lines; a single-valued attribute or undefined. */
function subjectAttribute(subject: string, key: string): string | undefined {
  const values = subject
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
  return values.length === 1 ? values[0] : undefined;
}
