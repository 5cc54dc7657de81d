/** Connects one pool, migrates the schema and builds every store on it. */
import type { Stores } from '../open-store.ts';
import { PostgresAccessStore } from './postgres-access-store.ts';
import { migratePostgres } from './migrations.ts';
import { createPgPool, toStoreError } from './pg-pool.ts';
import { PgSession } from './pg-session.ts';
import { PostgresAlertRuleStore } from './postgres-alert-rule-store.ts';
import { PostgresFleetMetricsStore } from './postgres-fleet-metrics-store.ts';
import { PostgresAlertStore } from './postgres-alert-store.ts';
import { PostgresDashboardStore } from './postgres-dashboard-store.ts';
import { PostgresAnomalyStore } from './postgres-anomaly-store.ts';
import { PostgresDeviceStore } from './postgres-device-store.ts';
import { PostgresGroupStore } from './postgres-group-store.ts';
import { PostgresJobStore } from './postgres-job-store.ts';
import { PostgresDeviceConfigStore } from './postgres-device-config-store.ts';
import { PostgresNotificationStore } from './postgres-notification-store.ts';
import { PostgresProvisioningStore } from './postgres-provisioning-store.ts';
import { PostgresReleaseStore } from './postgres-release-store.ts';
import { PostgresRolloutStore } from './postgres-rollout-store.ts';
import { PostgresTelemetryRetentionStore } from './postgres-telemetry-retention-store.ts';
import { PostgresTelemetryStore } from './postgres-telemetry-store.ts';
import { PostgresUpdateStore } from './postgres-update-store.ts';

export interface PostgresStoreOptions {
  /** e.g. postgres://user@127.0.0.1:5432/flotilla */
  url: string;
  /** Schema holding Flotilla's tables; created if missing. */
  schema: string;
}

/** Connects, creates the schema if needed, migrates it and returns the stores sharing one pool. */
export async function openPostgresStores(options: PostgresStoreOptions): Promise<Stores> {
  const target = createPgPool(options.url, options.schema);
  try {
    await migratePostgres(target.pool, options.schema);
  } catch (error) {
    await target.pool.end();
    throw toStoreError(error, target);
  }
  const session = new PgSession(target);
  return {
    access: new PostgresAccessStore(session),
    alerts: new PostgresAlertStore(session),
    devices: new PostgresDeviceStore(session),
    provisioning: new PostgresProvisioningStore(session),
    releases: new PostgresReleaseStore(session),
    rollouts: new PostgresRolloutStore(session),
    telemetry: new PostgresTelemetryStore(session),
    telemetryRetention: new PostgresTelemetryRetentionStore(session),
    updates: new PostgresUpdateStore(session),
    groups: new PostgresGroupStore(session),
    deviceConfig: new PostgresDeviceConfigStore(session),
    alertRules: new PostgresAlertRuleStore(session),
    fleetMetrics: new PostgresFleetMetricsStore(session),
    notifications: new PostgresNotificationStore(session),
    anomaly: new PostgresAnomalyStore(session),
    dashboard: new PostgresDashboardStore(session),
    jobs: new PostgresJobStore(session),
    close: () => session.close(),
  };
}
