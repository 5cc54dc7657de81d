/**
 * Checks a certificate the server issued before the agent stores or uses it: it must parse,
 * belong to the key made on the device, and name the expected device. Pure.
 */
import type { ProvisionResponse } from '../contracts/provisioning-messages.ts';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';
import { ValidationError } from '../infra/errors.ts';
import { keyMatchesCertificate, readCertificateInfo } from './certificate-info.ts';

type Accepted = Extract<ProvisionResponse, { status: 'accepted' }>;

export interface IssuedCertificate {
  deviceId: string;
  /** The device certificate followed by the issuing CA, as the server sent it. */
  certPem: string;
  /** ISO 8601, read from the certificate itself. */
  notAfter: string;
}

/**
 * Throws a ValidationError when the response cannot be used. `expectedDeviceId` is checked on
 * renewal; at provisioning the server assigns the id, which must then be a valid topic level
 * (it becomes part of every topic) and the certificate's CN.
 */
export function checkIssuedCertificate(
  response: Accepted,
  keyPem: string,
  expectedDeviceId?: string,
): IssuedCertificate {
  const { deviceId, certificatePem } = response;
  if (!DEVICE_ID_PATTERN.test(deviceId))
    throw new ValidationError(`server assigned an invalid device id ${JSON.stringify(deviceId)}`);
  if (expectedDeviceId !== undefined && deviceId !== expectedDeviceId)
    throw new ValidationError(`server answered for device ${deviceId}, not ${expectedDeviceId}`);
  if (certificatePem === undefined) throw new ValidationError('server accepted but sent no certificate');
  let info;
  try {
    info = readCertificateInfo(certificatePem);
  } catch {
    throw new ValidationError('server sent a certificate that does not parse');
  }
  if (info.commonName !== deviceId)
    throw new ValidationError(`certificate names ${String(info.commonName)}, not device ${deviceId}`);
  if (!keyMatchesCertificate(certificatePem, keyPem))
    throw new ValidationError("certificate is not for this device's key");
  return { deviceId, certPem: certificatePem, notAfter: new Date(info.notAfterMs).toISOString() };
}
