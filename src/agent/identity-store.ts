/**
 * The device's identity on disk, in the daemon's `stateDir`:
 *
 *   device.key    private key, PKCS#8 PEM, 0600
 *   device.pem    device certificate followed by the issuing CA
 *   ca-chain.pem  the CA chain the device trusts for the server
 *   server.json   {"mqttUrl": "mqtts://host:port"}: where to connect
 *
 * A new pair (first provisioning or renewal) is staged as device.next.key, then device.next.pem,
 * then promoted by renaming the key, then the certificate. Every write is durable (durable-file.ts),
 * so at every crash point a complete, matching pair is on disk or no certificate at all; loading
 * picks the newest matching pair and finishes an interrupted promotion. A key without its
 * certificate, a half-written file or a certificate for another key is never used.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { keyMatchesCertificate, readCertificateInfo } from './certificate-info.ts';
import {
  ensurePrivateDirectory,
  removeIfPresent,
  renameDurably,
  TEMP_SUFFIX,
  writeFileDurably,
} from './durable-file.ts';
import type { AgentLogger } from './types.ts';

export const IDENTITY_FILES = {
  key: 'device.key',
  cert: 'device.pem',
  nextKey: 'device.next.key',
  nextCert: 'device.next.pem',
  caChain: 'ca-chain.pem',
  server: 'server.json',
} as const;

const serverFileSchema = z.strictObject({ mqttUrl: z.string().min(1) });

export interface StoredIdentity {
  /** The certificate's CN. */
  deviceId: string;
  certPem: string;
  keyPem: string;
  /** Absent only when someone removed the file; callers fall back to their config. */
  caChainPem?: string;
  mqttUrl?: string;
}

/** Staged pairs first: the newest complete pair wins. */
const CANDIDATES = [
  { cert: IDENTITY_FILES.nextCert, key: IDENTITY_FILES.nextKey },
  { cert: IDENTITY_FILES.nextCert, key: IDENTITY_FILES.key },
  { cert: IDENTITY_FILES.cert, key: IDENTITY_FILES.key },
] as const;

/** The complete identity in `dir`, or undefined when there is none (the device must provision). */
export async function loadStoredIdentity(
  dir: string,
  logger: AgentLogger,
): Promise<StoredIdentity | undefined> {
  const names = await listDirectory(dir);
  if (names === undefined) return undefined;
  // Leftovers of writes a crash interrupted: never complete, never read.
  for (const name of names.filter((n) => n.endsWith(TEMP_SUFFIX))) await removeIfPresent(join(dir, name));
  const read = (name: string) => (names.includes(name) ? readFile(join(dir, name), 'utf8') : undefined);

  for (const candidate of CANDIDATES) {
    const [certPem, keyPem] = await Promise.all([read(candidate.cert), read(candidate.key)]);
    if (certPem === undefined || keyPem === undefined) continue;
    const deviceId = usableDeviceId(certPem, keyPem);
    if (deviceId === undefined) continue;
    await promote(dir, candidate);
    return { deviceId, certPem, keyPem, ...(await readServerFiles(dir, names)) };
  }
  if (names.includes(IDENTITY_FILES.key) || names.includes(IDENTITY_FILES.cert)) {
    logger.warn(
      { stateDir: dir, files: names },
      'ignoring an incomplete identity (no matching certificate and key)',
    );
  }
  return undefined;
}

/**
 * Stores a pair durably (see the file comment). `caChainPem` and `mqttUrl` are written first when
 * given (at provisioning); a renewal replaces only the pair.
 */
export async function saveIdentity(
  dir: string,
  identity: { certPem: string; keyPem: string; caChainPem?: string; mqttUrl?: string },
): Promise<void> {
  await ensurePrivateDirectory(dir);
  const path = (name: string) => join(dir, name);
  if (identity.caChainPem !== undefined)
    await writeFileDurably(path(IDENTITY_FILES.caChain), identity.caChainPem, 0o644);
  if (identity.mqttUrl !== undefined)
    await writeFileDurably(
      path(IDENTITY_FILES.server),
      `${JSON.stringify({ mqttUrl: identity.mqttUrl })}\n`,
      0o644,
    );
  // Key before certificate: a crash in between leaves no certificate without its key.
  await writeFileDurably(path(IDENTITY_FILES.nextKey), identity.keyPem, 0o600);
  await writeFileDurably(path(IDENTITY_FILES.nextCert), identity.certPem, 0o644);
  await promote(dir, { cert: IDENTITY_FILES.nextCert, key: IDENTITY_FILES.nextKey });
}

/**
 * Moves the chosen pair to the canonical names, key first (so an interrupted promotion leaves
 * device.key with device.next.pem: still a matching candidate), and drops stale staged files.
 */
async function promote(dir: string, pair: { cert: string; key: string }): Promise<void> {
  const path = (name: string) => join(dir, name);
  if (pair.key !== IDENTITY_FILES.key) await renameDurably(path(pair.key), path(IDENTITY_FILES.key));
  if (pair.cert !== IDENTITY_FILES.cert) await renameDurably(path(pair.cert), path(IDENTITY_FILES.cert));
  await removeIfPresent(path(IDENTITY_FILES.nextKey));
  await removeIfPresent(path(IDENTITY_FILES.nextCert));
}

/** The CN when the certificate parses, names a device and belongs to the key. */
function usableDeviceId(certPem: string, keyPem: string): string | undefined {
  try {
    const { commonName } = readCertificateInfo(certPem);
    return commonName !== undefined && keyMatchesCertificate(certPem, keyPem) ? commonName : undefined;
  } catch {
    return undefined;
  }
}

async function readServerFiles(
  dir: string,
  names: string[],
): Promise<{ caChainPem?: string; mqttUrl?: string }> {
  const result: { caChainPem?: string; mqttUrl?: string } = {};
  if (names.includes(IDENTITY_FILES.caChain))
    result.caChainPem = await readFile(join(dir, IDENTITY_FILES.caChain), 'utf8');
  if (names.includes(IDENTITY_FILES.server)) {
    try {
      const server = serverFileSchema.parse(
        JSON.parse(await readFile(join(dir, IDENTITY_FILES.server), 'utf8')),
      );
      result.mqttUrl = server.mqttUrl;
    } catch {
      // Written durably, so only a hand edit breaks it; the config's URL is used instead.
    }
  }
  return result;
}

async function listDirectory(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
