/** The alert store: alerts (one unresolved per key) and their append-only history. */
import type {
  Alert,
  AlertEvent,
  AlertFilter,
  AlertRaise,
  AlertSeverity,
  AlertState,
} from '../alerts/alert.ts';
import type { Page, PageRequest } from './types.ts';

export interface RaiseOutcome {
  alert: Alert;
  /** True when a new alert was opened; false when an unresolved one with the key was updated. */
  opened: boolean;
  /** The severity before, when this raise changed it. */
  previousSeverity?: AlertSeverity;
}

export interface AlertStore {
  /** Opens an alert, or updates the unresolved one with the same key. Atomic per key. */
  raise(raise: AlertRaise, id: string, atMs: number): Promise<RaiseOutcome>;
  /** NotFoundError; ConflictError when already acknowledged or resolved. */
  acknowledge(id: string, actor: string, atMs: number, note: string | null): Promise<Alert>;
  /** NotFoundError; ConflictError when already resolved. */
  resolve(id: string, actor: string, atMs: number, note: string | null): Promise<Alert>;
  /** Resolves the unresolved alert with this key, if there is one. */
  resolveKey(key: string, actor: string, atMs: number, note: string | null): Promise<Alert | undefined>;
  getAlert(id: string): Promise<Alert | undefined>;
  /** Newest first. */
  listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<Alert>>;
  listEvents(alertId: string): Promise<AlertEvent[]>;
  /** Unresolved alerts per state and severity (for /metrics and the dashboard). */
  countUnresolved(): Promise<
    Array<{ state: Exclude<AlertState, 'resolved'>; severity: AlertSeverity; count: number }>
  >;
}
