/** The one error the update flow throws for a refusal: it carries the contract's reason. */
import type { UpdateFailureReason } from '../../contracts/update-messages.ts';
import { FlotillaError } from '../../infra/errors.ts';

export class UpdateRefusedError extends FlotillaError {
  readonly code = 'update_refused';
  constructor(
    readonly reason: UpdateFailureReason,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message, details);
  }
}
