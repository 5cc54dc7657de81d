/** Opens the configured registry stores: connects, migrates, and returns them ready to use. */
import type { AccessStore } from './access-types.ts';
import type { AlertRuleStore } from './alert-rule-types.ts';
import type { AlertStore } from './alert-types.ts';
import type { DashboardStore } from './dashboard-types.ts';
import type { FleetMetricsStore } from './fleet-metrics-types.ts';
import type { AnomalyStore } from './anomaly-types.ts';
import type { DeviceConfigStore } from './device-config-types.ts';
import { openPostgresStores } from './postgres/open-postgres-stores.ts';
import type { GroupStore } from './group-types.ts';
import type { JobStore } from './job-types.ts';
import type { NotificationStore } from './notification-types.ts';
import type { ProvisioningStore } from './provisioning-types.ts';
import type { ReleaseStore } from './release-types.ts';
import type { RolloutStore } from './rollout-types.ts';
import type { TelemetryRetentionStore } from './telemetry-retention-types.ts';
import type { TelemetryStore } from './telemetry-types.ts';
import { openSqliteStores } from './sqlite/open-sqlite-stores.ts';
import type { DeviceStore } from './types.ts';
import type { UpdateStore } from './update-types.ts';

export type StoreOptions =
  { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema: string };

/** Kept for callers written before openStores. */
export type DeviceStoreOptions = StoreOptions;

/** Every store on one database connection (one SQLite handle, one pg pool). */
export interface Stores {
  /** Users, sessions, API tokens and role bindings (docs/access-control.md). */
  access: AccessStore;
  alerts: AlertStore;
  devices: DeviceStore;
  provisioning: ProvisioningStore;
  releases: ReleaseStore;
  updates: UpdateStore;
  rollouts: RolloutStore;
  telemetry: TelemetryStore;
  /** Retention and the cold-archive catalog of telemetry (docs/telemetry.md, "Retention & archive"). */
  telemetryRetention: TelemetryRetentionStore;
  /** Saved fleet queries (dynamic groups). */
  groups: GroupStore;
  /** Device configuration: desired, sent, reported documents and defaults (docs/device-config.md). */
  deviceConfig: DeviceConfigStore;
  /** Alert rules and their pending/firing subjects. */
  alertRules: AlertRuleStore;
  /** Fleet summary aggregates and device-rule matches. */
  fleetMetrics: FleetMetricsStore;
  /** The escalation ledger (alert notifications). */
  notifications: NotificationStore;
  /** Aggregated reads of anomaly detection. */
  anomaly: AnomalyStore;
  /** Remote jobs, their executions and device capabilities. */
  jobs: JobStore;
  /** Dashboard trend snapshots and rollout device counts (docs/dashboard.md). */
  dashboard: DashboardStore;
  /** Closes the shared connection; `devices.close()` does the same. Idempotent. */
  close(): Promise<void>;
}

/** UnavailableError when the database cannot be opened or was migrated by a newer Flotilla. */
export async function openStores(options: StoreOptions): Promise<Stores> {
  switch (options.kind) {
    case 'sqlite':
      return openSqliteStores(options.file);
    case 'postgres':
      return openPostgresStores({ url: options.url, schema: options.schema });
  }
}

/** The device store alone; its close() closes the connection. Prefer openStores. */
export async function openDeviceStore(options: DeviceStoreOptions): Promise<DeviceStore> {
  return (await openStores(options)).devices;
}
