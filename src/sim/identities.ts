/**
 * Certificates for simulated devices, issued by the fleet CA in a data directory and cached
 * in `<dataDir>/sim/<deviceId>.pem|.key`, so re-runs reuse identities (and the server sees
 * the same devices). A cached certificate is reused only while it still chains to the current
 * CA and has at least a day left; otherwise it is re-issued.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureFleetPki } from '../pki/fleet-pki.ts';
import { issueDeviceCert, type KeyPairPem, type SigningCa } from '../pki/x509.ts';
import { forEachConcurrent } from './pool.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Simulated identities live a year; the fleet CA itself lives ten. */
const VALIDITY_DAYS = 365;

export interface SimIdentity extends KeyPairPem {
  deviceId: string;
  /** True when the certificate came from the cache instead of being issued now. */
  reused: boolean;
}

export interface SimIdentityStore {
  /** PEM of the CA that signs device and server certificates: what agents trust. */
  caPem: string;
  /** The cached identity of a device, or a newly issued (and cached) one. */
  ensure(device: { deviceId: string; serial: string }): Promise<SimIdentity>;
}

export function simIdentityPaths(dataDir: string, deviceId: string): { cert: string; key: string } {
  const dir = join(dataDir, 'sim');
  return { cert: join(dir, `${deviceId}.pem`), key: join(dir, `${deviceId}.key`) };
}

export interface PreparedIdentities {
  caPem: string;
  /** In the order of the devices passed in. */
  identities: SimIdentity[];
  issued: number;
  reused: number;
}

/**
 * Loads or issues the identities of `devices`, `concurrency` at a time (key generation runs
 * on libuv's thread pool, so a few in flight use more than one core). Benchmarks call this
 * up front so issuance is not part of what they time.
 */
export async function prepareSimIdentities(
  dataDir: string,
  devices: readonly { deviceId: string; serial: string }[],
  nowMs: number,
  concurrency = 16,
): Promise<PreparedIdentities> {
  const store = await openSimIdentities(dataDir, nowMs);
  const identities = new Array<SimIdentity>(devices.length);
  await forEachConcurrent(devices, concurrency, async (device, i) => {
    identities[i] = await store.ensure(device);
  });
  const reused = identities.filter((identity) => identity.reused).length;
  return { caPem: store.caPem, identities, issued: devices.length - reused, reused };
}

/**
 * Opens the data dir's issuing CA (creating the fleet PKI in a fresh dir, via ensureFleetPki)
 * and the identity cache. Simulated devices get their final certificate like devices whose key
 * is made on the factory line.
 */
export async function openSimIdentities(dataDir: string, nowMs: number): Promise<SimIdentityStore> {
  const pki = await ensureFleetPki(dataDir, ['localhost'], nowMs);
  await mkdir(join(dataDir, 'sim'), { recursive: true, mode: 0o700 });
  return createSimIdentityStore(dataDir, pki.issuingCa, pki.chainPem, nowMs);
}

export function createSimIdentityStore(
  dataDir: string,
  ca: SigningCa,
  caPem: string,
  nowMs: number,
): SimIdentityStore {
  const caCert = new X509Certificate(caPem);
  return {
    caPem,
    async ensure({ deviceId, serial }) {
      const paths = simIdentityPaths(dataDir, deviceId);
      const cached = await readCached(paths);
      if (cached && stillValid(cached.certPem, caCert, nowMs, DAY_MS))
        return { deviceId, ...cached, reused: true };
      const pair = await issueDeviceCert(ca, { deviceId, serial, validityDays: VALIDITY_DAYS }, nowMs);
      // Key first and owner-only: a crash in between leaves no certificate without its key.
      await writeFile(paths.key, pair.keyPem, { mode: 0o600 });
      await writeFile(paths.cert, pair.certPem, { mode: 0o644 });
      return { deviceId, ...pair, reused: false };
    },
  };
}

/** The cached pair at `paths`, or undefined when either file is missing. */
export async function readCached(paths: { cert: string; key: string }): Promise<KeyPairPem | undefined> {
  try {
    return { certPem: await readFile(paths.cert, 'utf8'), keyPem: await readFile(paths.key, 'utf8') };
  } catch {
    return undefined;
  }
}

/**
 * Signed by this CA (a data dir whose CA was re-created invalidates the cache) and valid for at
 * least `minRemainingMs` more.
 */
export function stillValid(
  certPem: string,
  caCert: X509Certificate,
  nowMs: number,
  minRemainingMs: number,
): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
    return Date.parse(cert.validTo) - nowMs >= minRemainingMs;
  } catch {
    return false;
  }
}
