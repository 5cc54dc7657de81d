/**
 * Which chain an alert should be on (pure). The chain of the highest severity an open alert has
 * reached runs; starting it supersedes the lower chains' steps that have not gone out yet. A
 * severity that drops keeps the higher chain. Acknowledged and resolved alerts start nothing.
 */
import { alertSeverities, type Alert, type AlertSeverity } from '../alert.ts';
import type { EscalationStep } from './escalation-config.ts';
import { chainStep, type NewNotification } from './notification.ts';

export interface ChainPlan {
  rows: NewNotification[];
  /** Lower chains whose pending steps are cancelled. */
  superseded: AlertSeverity[];
}

const rank = (severity: AlertSeverity): number => alertSeverities.indexOf(severity);

/**
 * The rows to schedule for `alert`, given the chains it already has. The first chain is timed
 * from the alert's opening; a later one (the severity rose) from `nowMs`.
 */
export function planChain(
  alert: Pick<Alert, 'id' | 'state' | 'severity' | 'openedAtMs'>,
  chain: readonly EscalationStep[],
  started: readonly AlertSeverity[],
  nowMs: number,
): ChainPlan {
  const none: ChainPlan = { rows: [], superseded: [] };
  if (alert.state !== 'open') return none;
  if (started.some((severity) => rank(severity) >= rank(alert.severity))) return none;
  const first = started.length === 0;
  const startMs = first ? alert.openedAtMs : nowMs;
  const rows = chain.flatMap((step, index) =>
    [...new Set(step.channels)].map((channel): NewNotification => ({
      alertId: alert.id,
      step: chainStep(alert.severity, index),
      channel,
      kind: first && index === 0 ? 'opened' : 'escalated',
      dueAtMs: startMs + step.afterS * 1000,
    })),
  );
  return { rows, superseded: [...started] };
}
