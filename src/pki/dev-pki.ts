/**
 * The development PKI the embedded default creates in the data directory on first start:
 * a fleet CA and the gateway's server certificate. The provisioning issue replaces this with
 * an offline root and an issuing intermediate. Key files are written owner-only (0600).
 */
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createSelfSignedCa,
  issueServerCert,
  loadSigningCa,
  type KeyPairPem,
  type SigningCa,
} from './x509.ts';

export interface DevPkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export function devPkiPaths(dataDir: string): DevPkiPaths {
  const dir = join(dataDir, 'pki');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
  };
}

export interface DevPki {
  paths: DevPkiPaths;
  ca: KeyPairPem;
  server: KeyPairPem;
  signingCa: SigningCa;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function writePair(pair: KeyPairPem, certPath: string, keyPath: string): Promise<void> {
  await writeFile(keyPath, pair.keyPem, { mode: 0o600 });
  await writeFile(certPath, pair.certPem, { mode: 0o644 });
}

async function readPair(certPath: string, keyPath: string): Promise<KeyPairPem> {
  return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
}

/** Loads the development CA and server certificate, creating whatever is missing. */
export async function ensureDevPki(dataDir: string, serverNames: string[], nowMs: number): Promise<DevPki> {
  const paths = devPkiPaths(dataDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (!(await exists(paths.caCert)) || !(await exists(paths.caKey))) {
    await writePair(
      await createSelfSignedCa('Flotilla Development Fleet CA', 3650, nowMs),
      paths.caCert,
      paths.caKey,
    );
  }
  const ca = await readPair(paths.caCert, paths.caKey);
  const signingCa = await loadSigningCa(ca);
  if (!(await exists(paths.serverCert)) || !(await exists(paths.serverKey))) {
    const ipAddresses = ['127.0.0.1', '::1', ...serverNames.filter(isIpAddress)];
    const dnsNames = ['localhost', ...serverNames.filter((n) => !isIpAddress(n) && n !== 'localhost')];
    const server = await issueServerCert(
      signingCa,
      {
        commonName: serverNames[0] ?? 'localhost',
        dnsNames,
        ipAddresses: [...new Set(ipAddresses)],
        validityDays: 825,
      },
      nowMs,
    );
    await writePair(server, paths.serverCert, paths.serverKey);
  }
  return { paths, ca, server: await readPair(paths.serverCert, paths.serverKey), signingCa };
}

function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}
