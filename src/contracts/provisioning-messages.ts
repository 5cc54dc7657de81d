/**
 * Provisioning and certificate renewal messages (MQTT and HTTPS carry the same payloads).
 *
 * First boot, over a claim session (TLS with the batch's claim certificate, MQTT client id = the
 * device's serial):
 *   device → `fl/provision/{serial}/request`   ProvisionRequest  (QoS 1)
 *   cloud  → `fl/provision/{serial}/response`  ProvisionResponse (QoS 1)
 * HTTPS: `POST /device/v1/provision` with the claim certificate as TLS client certificate.
 *
 * Renewal, over the device's own session:
 *   device → `fl/d/{id}/certificate/renew`     RenewRequest  (QoS 1)
 *   cloud  → `fl/d/{id}/certificate/issued`    ProvisionResponse (QoS 1)
 */
import { z } from 'zod';

/** PEM CSRs larger than this are refused before parsing. */
export const MAX_CSR_BYTES = 8 * 1024;

const pem = (label: string) =>
  z
    .string()
    .max(MAX_CSR_BYTES, `at most ${MAX_CSR_BYTES} bytes`)
    .refine((text) => text.includes(`-----BEGIN ${label}-----`), `must be a PEM ${label}`);

export const provisionRequestSchema = z.strictObject({
  /** The serial printed on the device; must be in the claim credential's factory batch. */
  serial: z.string().min(1).max(128),
  /**
   * `certificate` (default): `csrPem` is required; the device keeps its private key.
   * `token`: for devices that cannot do TLS client certificates; the response carries a secret
   * used as the MQTT password (username = device id) over server-authenticated TLS.
   */
  credential: z.enum(['certificate', 'token']).default('certificate'),
  csrPem: pem('CERTIFICATE REQUEST').optional(),
});
export type ProvisionRequest = z.infer<typeof provisionRequestSchema>;

export const provisionRefusalCodes = [
  'malformed_request',
  'unknown_serial',
  'already_provisioned',
  'wrong_batch',
  'claim_expired',
  'claim_exhausted',
  'invalid_csr',
  'csr_subject_mismatch',
  'unsupported_key',
  'revoked',
  'unauthenticated',
  'internal_error',
] as const;
export type ProvisionRefusalCode = (typeof provisionRefusalCodes)[number];

export const provisionResponseSchema = z.discriminatedUnion('status', [
  z.strictObject({
    status: z.literal('accepted'),
    deviceId: z.string(),
    /** Present for `certificate`: the device certificate followed by the issuing CA. */
    certificatePem: z.string().optional(),
    /** Present for `token`: shown once, stored by the server only as a hash. */
    token: z.string().optional(),
    /** The CA chain to trust for the server (issuing CA, then root). */
    caChainPem: z.string(),
    /** ISO time the certificate expires (certificate credential). */
    notAfter: z.string().optional(),
    /** Where to connect next. */
    mqttUrl: z.string(),
  }),
  z.strictObject({
    status: z.literal('rejected'),
    code: z.enum(provisionRefusalCodes),
    /** Human-readable reason the device can log. */
    message: z.string(),
  }),
]);
export type ProvisionResponse = z.infer<typeof provisionResponseSchema>;

export const renewRequestSchema = z.strictObject({
  csrPem: pem('CERTIFICATE REQUEST'),
});
export type RenewRequest = z.infer<typeof renewRequestSchema>;
