/** Opens the SQLite file once and builds every store on the one handle. */
import type { Stores } from '../open-store.ts';
import { SqliteAccessStore } from './sqlite-access-store.ts';
import { migrateSqlite } from './migrations.ts';
import { openSqliteDatabase } from './open-sqlite-database.ts';
import { SqliteAlertRuleStore } from './sqlite-alert-rule-store.ts';
import { SqliteFleetMetricsStore } from './sqlite-fleet-metrics-store.ts';
import { SqliteAlertStore } from './sqlite-alert-store.ts';
import { SqliteDashboardStore } from './sqlite-dashboard-store.ts';
import { SqliteAnomalyStore } from './sqlite-anomaly-store.ts';
import { SqliteDeviceStore } from './sqlite-device-store.ts';
import { SqliteGroupStore } from './sqlite-group-store.ts';
import { SqliteJobStore } from './sqlite-job-store.ts';
import { SqliteDeviceConfigStore } from './sqlite-device-config-store.ts';
import { SqliteNotificationStore } from './sqlite-notification-store.ts';
import { runSync } from './sqlite-errors.ts';
import { SqliteProvisioningStore } from './sqlite-provisioning-store.ts';
import { SqliteReleaseStore } from './sqlite-release-store.ts';
import { SqliteRolloutStore } from './sqlite-rollout-store.ts';
import { SqliteTelemetryRetentionStore } from './sqlite-telemetry-retention-store.ts';
import { SqliteTelemetryStore } from './sqlite-telemetry-store.ts';
import { SqliteUpdateStore } from './sqlite-update-store.ts';

/** Opens the file (creating it and its directory), migrates it and returns the stores. */
export async function openSqliteStores(file: string): Promise<Stores> {
  const db = openSqliteDatabase(file);
  try {
    await runSync(db, () => migrateSqlite(db));
  } catch (error) {
    db.close();
    throw error;
  }
  const devices = new SqliteDeviceStore(db);
  // Statements are prepared against the migrated schema, so the store is built only now.
  return {
    access: new SqliteAccessStore(db),
    alerts: new SqliteAlertStore(db),
    devices,
    provisioning: new SqliteProvisioningStore(db),
    releases: new SqliteReleaseStore(db),
    rollouts: new SqliteRolloutStore(db),
    telemetry: new SqliteTelemetryStore(db),
    telemetryRetention: new SqliteTelemetryRetentionStore(db),
    updates: new SqliteUpdateStore(db),
    groups: new SqliteGroupStore(db),
    deviceConfig: new SqliteDeviceConfigStore(db),
    alertRules: new SqliteAlertRuleStore(db),
    fleetMetrics: new SqliteFleetMetricsStore(db),
    notifications: new SqliteNotificationStore(db),
    anomaly: new SqliteAnomalyStore(db),
    dashboard: new SqliteDashboardStore(db),
    jobs: new SqliteJobStore(db),
    close: () => devices.close(),
  };
}
