/** What the access services share: the store, the audit log, the clock and the limits from config. */
import type { Clock } from '../infra/clock.ts';
import type { AccessStore } from '../store/access-types.ts';
import type { AuditOrigin, ProvisioningStore } from '../store/provisioning-types.ts';

export interface AccessLimits {
  /** A session ends after this long without a request. */
  sessionIdleS: number;
  /** A session ends this long after login, whatever the activity. */
  sessionMaxS: number;
  /** The longest lifetime an API token may be given. */
  tokenMaxLifetimeS: number;
}

export interface AccessDeps {
  store: AccessStore;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  limits: AccessLimits;
  /** ValidationError naming the position when a scope's fleet query is wrong (groups resolved). */
  checkScope(where: string): Promise<void>;
}

/** Appends one audit entry with the actor and source of `origin`. */
export function auditWith(
  deps: Pick<AccessDeps, 'audit' | 'clock'>,
  origin: AuditOrigin,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  return deps.audit.appendAudit({ ...origin, action, target, details, atMs: deps.clock.now() });
}
