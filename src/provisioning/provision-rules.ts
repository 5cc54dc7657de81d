/** Pure rules of provisioning: what a CSR may claim, and how store refusals map to protocol codes. */
import type { ProvisionRefusalCode, ProvisionResponse } from '../contracts/provisioning-messages.ts';
import { ConflictError, FlotillaError, ForbiddenError, NotFoundError } from '../infra/errors.ts';

export type Refusal = Extract<ProvisionResponse, { status: 'rejected' }>;

export function refusal(code: ProvisionRefusalCode, message: string): Refusal {
  return { status: 'rejected', code, message };
}

/**
 * The CSR's subject is informative, but it must not name another device: it has to name the
 * serial being provisioned in its CN or serialNumber, and whatever it names must be that serial.
 */
export function checkCsrSubject(
  serial: string,
  subject: { commonName?: string; serialNumber?: string },
): Refusal | undefined {
  const named = [subject.commonName, subject.serialNumber].filter((v): v is string => v !== undefined);
  if (named.length === 0)
    return refusal(
      'csr_subject_mismatch',
      `the CSR subject must name serial ${serial} in CN or serialNumber`,
    );
  const other = named.find((value) => value !== serial);
  if (other !== undefined)
    return refusal(
      'csr_subject_mismatch',
      `the CSR subject names ${JSON.stringify(other)}, not serial ${serial}`,
    );
  return undefined;
}

const forbiddenReasons: Record<string, ProvisionRefusalCode> = {
  wrong_batch: 'wrong_batch',
  claim_expired: 'claim_expired',
  claim_exhausted: 'claim_exhausted',
};

/** Maps a typed store refusal (see ProvisioningStore.completeProvisioning) to a protocol refusal. */
export function refusalFromStoreError(error: unknown): Refusal | undefined {
  if (!(error instanceof FlotillaError)) return undefined;
  if (error instanceof NotFoundError) return refusal('unknown_serial', error.message);
  if (error instanceof ConflictError) return refusal('already_provisioned', error.message);
  if (error instanceof ForbiddenError) {
    const reason = error.details?.['reason'];
    const code = typeof reason === 'string' ? forbiddenReasons[reason] : undefined;
    return refusal(code ?? 'wrong_batch', error.message);
  }
  return undefined;
}
