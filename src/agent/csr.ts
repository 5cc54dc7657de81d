/**
 * The device's key and certificate request, made on the device: the private key never leaves
 * it. ECDSA P-256 with SHA-256 (what the server accepts); the subject names the serial in both
 * CN and serialNumber, which the server requires to match the serial being provisioned.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
// Importing x509.ts also points @peculiar/x509 at Node's WebCrypto.
import { exportKeyPem, generateKeyPair } from '../pki/x509.ts';

export interface KeyAndCsr {
  /** PKCS#8 PEM. */
  keyPem: string;
  /** PKCS#10 PEM (RFC 2986). */
  csrPem: string;
}

const SERIAL_NUMBER_OID = '2.5.4.5';

export async function createKeyAndCsr(serial: string): Promise<KeyAndCsr> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [serial] }, { [SERIAL_NUMBER_OID]: [serial] }],
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  return { keyPem: await exportKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}
