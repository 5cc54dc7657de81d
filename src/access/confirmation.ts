/** Dangerous operations need an explicit `confirm: true` from the caller (428 otherwise). Pure. */
import { z } from 'zod';
import { ConfirmationRequiredError } from '../infra/errors.ts';

/** The body field dangerous operations carry. */
export const confirmField = z
  .boolean()
  .optional()
  .describe('Must be true for dangerous operations (factory reset, cancel-all, key changes)');

/** Throws 428 `confirmation_required` naming `what` unless `confirm` is exactly true. */
export function requireConfirmation(confirm: boolean | undefined, what: string): void {
  if (confirm !== true) {
    throw new ConfirmationRequiredError(`${what} is dangerous: repeat the request with "confirm": true`, {
      required: 'confirm',
    });
  }
}
