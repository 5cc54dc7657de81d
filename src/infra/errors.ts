/**
 * Typed errors. Each carries a stable machine-readable `code`; transports map the class
 * to a status in one place (api/error-mapping.ts for HTTP). Never match errors by message.
 */

export abstract class FlotillaError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends FlotillaError {
  readonly code = 'validation_failed';
}

export class NotFoundError extends FlotillaError {
  readonly code = 'not_found';
}

/** A request body larger than allowed (HTTP 413). */
export class PayloadTooLargeError extends FlotillaError {
  readonly code = 'payload_too_large';
}

export class ConflictError extends FlotillaError {
  readonly code = 'conflict';
}

export class ForbiddenError extends FlotillaError {
  readonly code = 'forbidden';
}

export class UnauthorizedError extends FlotillaError {
  readonly code = 'unauthorized';
}

/** A dangerous operation (factory reset, cancel-all, key changes) sent without `confirm: true`. */
export class ConfirmationRequiredError extends FlotillaError {
  readonly code = 'confirmation_required';
}

/** Bad configuration: start-up stops with this message, which names the field. */
export class ConfigError extends FlotillaError {
  readonly code = 'invalid_config';
}

/** A dependency (database, broker) is unreachable or failed. */
export class UnavailableError extends FlotillaError {
  readonly code = 'unavailable';
}

/** Too many attempts (failed logins): try again after `details.retryAfterS`. */
export class RateLimitedError extends FlotillaError {
  readonly code = 'rate_limited';
}
