/** Who a connecting client is, taken from its verified client certificate. Pure. */
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';

export interface DeviceIdentity {
  deviceId: string;
  /** The certificate subject's serialNumber (OID 2.5.4.5), or the device id when absent. */
  serial: string;
  /** Hex serial number of the certificate itself (for revocation later). */
  certificateSerial: string;
  fingerprint256: string;
}

/** The parts of Node's `PeerCertificate` we read. */
export interface PeerCertificateLike {
  subject?: Record<string, string | string[] | undefined> | null;
  serialNumber?: string;
  fingerprint256?: string;
}

export type IdentityResult = { ok: true; identity: DeviceIdentity } | { ok: false; reason: string };

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

export function identityFromCertificate(cert: PeerCertificateLike, clientId: string): IdentityResult {
  const subject = cert.subject ?? {};
  const deviceId = single(subject['CN']);
  if (deviceId === undefined) return { ok: false, reason: 'certificate subject has no single CN' };
  if (!DEVICE_ID_PATTERN.test(deviceId))
    return { ok: false, reason: `certificate CN ${JSON.stringify(deviceId)} is not a valid device id` };
  // The MQTT client id must equal the certificate's device id: otherwise one device could
  // take over (and disconnect) another device's session [MQTT-3.1.4-2].
  if (clientId !== deviceId)
    return {
      ok: false,
      reason: `client id ${JSON.stringify(clientId)} does not match certificate CN ${JSON.stringify(deviceId)}`,
    };
  const serial = single(subject['serialNumber']) ?? deviceId;
  return {
    ok: true,
    identity: {
      deviceId,
      serial,
      certificateSerial: cert.serialNumber ?? '',
      fingerprint256: cert.fingerprint256 ?? '',
    },
  };
}
