/**
 * Who a connecting client is. Pure: reads a verified certificate's subject (or the result of a
 * token check) and the MQTT client id.
 *
 * - Device session: certificate CN = device id = MQTT client id (or username = device id with a token).
 * - Claim session: certificate with OU `flotilla-claim` and CN `claim-<batchId>`; the MQTT client id
 *   is the serial of the device that is provisioning itself.
 */
import { claimBatchId, CLAIM_OU } from '../pki/claim-subject.ts';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';

export interface DeviceIdentity {
  deviceId: string;
  /** The certificate subject's serialNumber (OID 2.5.4.5), or the device id when absent. */
  serial: string;
  auth: 'certificate' | 'token';
  /** Hex serial number of the certificate (null with a token). */
  certificateSerial: string | null;
  fingerprint256: string | null;
}

export interface ClaimIdentity {
  batchId: string;
  /** The device's serial, from the MQTT client id. */
  serial: string;
  certificateSerial: string;
}

export type SessionIdentity =
  { kind: 'device'; device: DeviceIdentity } | { kind: 'claim'; claim: ClaimIdentity };

/** The parts of Node's `PeerCertificate` we read. */
export interface PeerCertificateLike {
  subject?: Record<string, string | string[] | undefined> | null;
  serialNumber?: string;
  fingerprint256?: string;
}

export type IdentityResult = { ok: true; identity: SessionIdentity } | { ok: false; reason: string };

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

export function identityFromCertificate(cert: PeerCertificateLike, clientId: string): IdentityResult {
  const subject = cert.subject ?? {};
  const commonName = single(subject['CN']);
  if (commonName === undefined) return { ok: false, reason: 'certificate subject has no single CN' };
  const certificateSerial = cert.serialNumber ?? '';

  if (single(subject['OU']) === CLAIM_OU) {
    const batchId = claimBatchId(commonName);
    if (batchId === undefined)
      return { ok: false, reason: `claim certificate CN ${JSON.stringify(commonName)} names no batch` };
    if (!DEVICE_ID_PATTERN.test(clientId)) {
      return {
        ok: false,
        reason: `claim session client id ${JSON.stringify(clientId)} is not a valid serial`,
      };
    }
    return { ok: true, identity: { kind: 'claim', claim: { batchId, serial: clientId, certificateSerial } } };
  }

  if (!DEVICE_ID_PATTERN.test(commonName)) {
    return { ok: false, reason: `certificate CN ${JSON.stringify(commonName)} is not a valid device id` };
  }
  // The MQTT client id must equal the certificate's device id: otherwise one device could
  // take over (and disconnect) another device's session [MQTT-3.1.4-2].
  if (clientId !== commonName) {
    return {
      ok: false,
      reason: `client id ${JSON.stringify(clientId)} does not match certificate CN ${JSON.stringify(commonName)}`,
    };
  }
  return {
    ok: true,
    identity: {
      kind: 'device',
      device: {
        deviceId: commonName,
        serial: single(subject['serialNumber']) ?? commonName,
        auth: 'certificate',
        certificateSerial,
        fingerprint256: cert.fingerprint256 ?? null,
      },
    },
  };
}

/** A device authenticated by username (= device id = client id) and token. */
export function identityFromToken(username: string, clientId: string, serial: string): IdentityResult {
  if (!DEVICE_ID_PATTERN.test(username)) return { ok: false, reason: 'username is not a valid device id' };
  if (clientId !== username)
    return { ok: false, reason: `client id ${JSON.stringify(clientId)} does not match username` };
  return {
    ok: true,
    identity: {
      kind: 'device',
      device: { deviceId: username, serial, auth: 'token', certificateSerial: null, fingerprint256: null },
    },
  };
}
