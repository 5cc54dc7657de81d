/**
 * Revocation: an in-memory deny list the gateway consults on every connect (loaded from the store
 * at start, so a restart forgets nothing), the revoke operation (store, deny list, disconnect,
 * CRL, audit), and the credential checks the gateway uses.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from '../infra/clock.ts';
import { NotFoundError } from '../infra/errors.ts';
import type { CredentialChecks } from '../gateway/types.ts';
import { publishCrl, type FleetPki } from '../pki/fleet-pki.ts';
import type { DeviceStore } from '../store/types.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import { tokenMatches } from './secrets.ts';

export class RevocationList {
  private readonly certificates = new Set<string>();
  private readonly devices = new Set<string>();

  static async load(store: ProvisioningStore): Promise<RevocationList> {
    const list = new RevocationList();
    for (const cert of await store.listRevokedCertificates())
      list.certificates.add(cert.serial.toUpperCase());
    for (const id of await store.listRevokedDeviceIds()) list.devices.add(id);
    return list;
  }

  add(deviceId: string, certificateSerials: string[]): void {
    this.devices.add(deviceId);
    for (const serial of certificateSerials) this.certificates.add(serial.toUpperCase());
  }

  isDeviceRevoked(deviceId: string): boolean {
    return this.devices.has(deviceId);
  }

  isCertificateRevoked(serialHex: string): boolean {
    return this.certificates.has(serialHex.toUpperCase());
  }
}

export function createCredentialChecks(deps: {
  store: ProvisioningStore;
  devices: DeviceStore;
  revocations: RevocationList;
}): CredentialChecks {
  const { store, devices, revocations } = deps;
  return {
    refusal(identity) {
      if (identity.kind === 'claim') {
        return revocations.isCertificateRevoked(identity.claim.certificateSerial)
          ? 'claim certificate revoked'
          : undefined;
      }
      const { deviceId, certificateSerial } = identity.device;
      if (revocations.isDeviceRevoked(deviceId)) return `device ${deviceId} is revoked`;
      if (certificateSerial !== null && revocations.isCertificateRevoked(certificateSerial))
        return `certificate ${certificateSerial} is revoked`;
      return undefined;
    },
    async verifyToken(deviceId, token) {
      const hash = await store.getTokenHash(deviceId);
      if (hash === undefined || !tokenMatches(token, hash)) return undefined;
      const device = await devices.getDevice(deviceId);
      return device ? { serial: device.serial } : undefined;
    },
  };
}

export interface RevocationService {
  /** Revokes every credential of the device, disconnects it at once and republishes the CRL. */
  revoke(
    deviceId: string,
    input: { reason: string; actor: string; source: string },
  ): Promise<{ revokedCertificates: string[]; disconnected: boolean }>;
  /** Re-signs the CRL from the store (at start and after each revocation). */
  publishCrl(): Promise<string>;
  /** The CRL as last published. */
  currentCrl(): Promise<string>;
}

export function createRevocationService(deps: {
  store: ProvisioningStore;
  devices: DeviceStore;
  revocations: RevocationList;
  pki: FleetPki;
  clock: Clock;
  logger: Logger;
  disconnect: (deviceId: string) => boolean;
}): RevocationService {
  const { store, devices, revocations, pki, clock, logger } = deps;

  async function crl(): Promise<string> {
    const revoked = await store.listRevokedCertificates();
    return publishCrl(
      pki,
      revoked.map((r) => ({ serialHex: r.serial, revokedAt: new Date(r.revokedAt) })),
      clock.now(),
    );
  }

  return {
    publishCrl: crl,
    currentCrl: () => readFile(pki.paths.crl, 'utf8'),
    async revoke(deviceId, input) {
      if (!(await devices.getDevice(deviceId)))
        throw new NotFoundError(`device ${deviceId} not found`, { deviceId });
      const atMs = clock.now();
      const serials = await store.revokeDevice(deviceId, input.reason, atMs);
      revocations.add(deviceId, serials);
      const disconnected = deps.disconnect(deviceId);
      await crl();
      await store.appendAudit({
        atMs,
        actor: input.actor,
        action: 'device.revoked',
        target: deviceId,
        source: input.source,
        details: { reason: input.reason, certificates: serials, disconnected },
      });
      logger.warn({ deviceId, certificates: serials, disconnected, reason: input.reason }, 'device revoked');
      return { revokedCertificates: serials, disconnected };
    },
  };
}
