/** The one place typed errors become HTTP statuses and JSON error bodies. */
import { z } from 'zod';
import {
  ConfigError,
  ConfirmationRequiredError,
  ConflictError,
  FlotillaError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '../infra/errors.ts';
import { MinisignError } from '../signing/minisign.ts';
import { KeyDecryptionError } from '../signing/key-file.ts';

export const errorBodySchema = z.object({
  error: z.object({
    /** Stable, machine-readable: validation_failed, not_found, conflict, … */
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export function httpStatusFor(error: FlotillaError): number {
  if (error instanceof ValidationError) return 400;
  // Rejected signatures and undecryptable keys are bad input, not server faults.
  if (error instanceof MinisignError || error instanceof KeyDecryptionError) return 422;
  if (error instanceof ConfirmationRequiredError) return 428;
  if (error instanceof UnauthorizedError) return 401;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof RateLimitedError) return 429;
  if (error instanceof UnavailableError) return 503;
  if (error instanceof ConfigError) return 500;
  return 500;
}

/** Internal details never reach a client: unknown errors become a generic 500. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof FlotillaError) {
    const status = httpStatusFor(error);
    const exposed = status < 500 || error instanceof UnavailableError;
    return {
      status,
      body: {
        error: {
          code: error.code,
          message: exposed ? error.message : 'internal error',
          ...(exposed && error.details ? { details: error.details } : {}),
        },
      },
    };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
}

export function validationErrorFrom(where: string, error: z.ZodError): ValidationError {
  const issues = error.issues.map((i) => ({
    field: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  return new ValidationError(`invalid request: ${summary}`, { issues });
}
