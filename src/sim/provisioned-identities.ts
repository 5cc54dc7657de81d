/**
 * Identities of simulated devices that provision themselves with a factory batch's claim
 * credential, as real devices do on first boot: key and CSR made per device, bounded concurrency.
 * Cached like issued identities (`<dataDir>/sim/<serial>.pem|.key`, identities.ts), so a re-run
 * reuses them: the server provisions a serial only once.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyMatchesCertificate, readCertificateInfo } from '../agent/certificate-info.ts';
import { provisionDevice, type ProvisioningEndpoint } from '../agent/provisioning.ts';
import { ProvisioningRefusedError } from '../agent/provisioning-errors.ts';
import type { AgentDeps } from '../agent/types.ts';
import type { ProvisionRefusalCode } from '../contracts/provisioning-messages.ts';
import { readCached, simIdentityPaths, stillValid, type SimIdentity } from './identities.ts';
import { forEachConcurrent } from './pool.ts';

/** How the simulated devices provision: a factory batch's claim credential and where to send it. */
export type SimProvisioning = ({ transport: 'mqtt' } | { transport: 'https'; httpsUrl: string }) & {
  /** The batch's claim certificate and key, PEM. */
  claim: { certPem: string; keyPem: string };
  /** The CA chain the batch trusts for the server (issuing CA, then root). */
  caChainPem: string;
  /** The batch's serials, one per device in order; default the simulated fleet's own serials. */
  serials?: readonly string[];
  /** The batch's hardware, reported by every device; default each simulated device's own. */
  hardware?: { model: string; revision: string };
  /** Provisioning exchanges in flight; default 50. */
  concurrency?: number;
};

export interface ProvisionedIdentities {
  caPem: string;
  /** In the order of the serials passed in; undefined where the server refused the device. */
  identities: (SimIdentity | undefined)[];
  issued: number;
  reused: number;
  /** Refused devices by reason. */
  refused: Partial<Record<ProvisionRefusalCode, number>>;
}

export async function prepareProvisionedIdentities(
  deps: AgentDeps,
  params: {
    dataDir: string;
    serials: readonly string[];
    provision: SimProvisioning;
    /** Where the gateway is: the MQTT transport provisions there. */
    serverUrl: string;
    backoff?: { initialMs?: number; maxMs?: number };
  },
): Promise<ProvisionedIdentities> {
  const { dataDir, serials, provision } = params;
  await mkdir(join(dataDir, 'sim'), { recursive: true, mode: 0o700 });
  const issuingCa = new X509Certificate(provision.caChainPem);
  const endpoint: ProvisioningEndpoint =
    provision.transport === 'https'
      ? { transport: 'https', httpsUrl: provision.httpsUrl }
      : { transport: 'mqtt', mqttUrl: params.serverUrl };
  const result: ProvisionedIdentities = {
    caPem: provision.caChainPem,
    identities: new Array<SimIdentity | undefined>(serials.length),
    issued: 0,
    reused: 0,
    refused: {},
  };
  await forEachConcurrent(serials, provision.concurrency ?? 50, async (serial, i) => {
    const paths = simIdentityPaths(dataDir, serial);
    const cached = await readCached(paths);
    // Any time left will do: the server would refuse to provision the serial again anyway.
    const usable =
      cached !== undefined &&
      stillValid(cached.certPem, issuingCa, deps.clock.now(), 1) &&
      keyMatchesCertificate(cached.certPem, cached.keyPem);
    if (cached && usable) {
      const deviceId = readCertificateInfo(cached.certPem).commonName ?? serial;
      result.identities[i] = { deviceId, ...cached, reused: true };
      result.reused += 1;
      return;
    }
    try {
      const identity = await provisionDevice(deps, {
        ...endpoint,
        serial,
        claim: provision.claim,
        caChainPem: provision.caChainPem,
        ...(params.backoff ? { backoff: params.backoff } : {}),
      });
      // Key first and owner-only: a crash in between leaves no certificate without its key.
      await writeFile(paths.key, identity.keyPem, { mode: 0o600 });
      await writeFile(paths.cert, identity.certPem, { mode: 0o644 });
      result.identities[i] = {
        deviceId: identity.deviceId,
        certPem: identity.certPem,
        keyPem: identity.keyPem,
        reused: false,
      };
      result.issued += 1;
    } catch (error) {
      if (!(error instanceof ProvisioningRefusedError)) throw error;
      result.refused[error.code] = (result.refused[error.code] ?? 0) + 1;
    }
  });
  return result;
}
