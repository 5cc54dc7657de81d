/** Provisioning failures: which refusals are final, and the errors a device stops or retries with. Pure. */
import type { ProvisionRefusalCode } from '../contracts/provisioning-messages.ts';
import { FlotillaError } from '../infra/errors.ts';

/**
 * True when asking again can succeed: only a server-side failure. Every other refusal says the
 * request or the device itself is wrong, so retrying would only load the server (and the audit
 * log) with the same answer. Exhaustive, so a new code has to be classified here.
 */
export function isRetryableRefusal(code: ProvisionRefusalCode): boolean {
  switch (code) {
    case 'internal_error':
      return true;
    case 'malformed_request':
    case 'unknown_serial':
    case 'already_provisioned':
    case 'wrong_batch':
    case 'claim_expired':
    case 'claim_exhausted':
    case 'invalid_csr':
    case 'csr_subject_mismatch':
    case 'unsupported_key':
    case 'revoked':
    case 'unauthenticated':
      return false;
  }
}

/** The server refused to provision (or renew) this device for good; `code` says why. */
export class ProvisioningRefusedError extends FlotillaError {
  readonly code: ProvisionRefusalCode;

  constructor(
    code: ProvisionRefusalCode,
    readonly serverMessage: string,
    readonly serial: string,
    advice?: string,
  ) {
    super(`provisioning of ${serial} refused (${code}): ${serverMessage}${advice ? `. ${advice}` : ''}`, {
      code,
      serial,
    });
    this.code = code;
  }
}

/** A connection or protocol failure during a provisioning exchange; a later attempt may succeed. */
export class ProvisioningTransportError extends Error {
  override readonly name = 'ProvisioningTransportError';
}
