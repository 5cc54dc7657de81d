/** Where the fleet PKI keeps its files inside `<dataDir>/pki/` (and in an operator's root dir). */
import { join } from 'node:path';

export interface FleetPkiPaths {
  dir: string;
  /** The trust anchor devices and the server verify against. Always present. */
  rootCert: string;
  /** Absent when the root is kept offline (the recommended production setup). */
  rootKey: string;
  issuingCert: string;
  issuingKey: string;
  /** Key of an issuing CA whose CSR is waiting for the offline root's signature. */
  issuingPendingKey: string;
  /** Issuing CA then root: what devices are given to verify the server. */
  chain: string;
  /** Server certificate followed by the issuing CA certificate. */
  serverCert: string;
  serverKey: string;
  crl: string;
}

export function fleetPkiPaths(dataDir: string): FleetPkiPaths {
  return pkiDirPaths(join(dataDir, 'pki'));
}

/** The same file names in any directory: an operator's root dir uses root-ca.pem/root-ca.key. */
export function pkiDirPaths(dir: string): FleetPkiPaths {
  return {
    dir,
    rootCert: join(dir, 'root-ca.pem'),
    rootKey: join(dir, 'root-ca.key'),
    issuingCert: join(dir, 'issuing-ca.pem'),
    issuingKey: join(dir, 'issuing-ca.key'),
    issuingPendingKey: join(dir, 'issuing-ca.pending.key'),
    chain: join(dir, 'chain.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    crl: join(dir, 'crl.pem'),
  };
}
