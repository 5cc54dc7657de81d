import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { openDeviceStore } from '../../src/store/open-store.ts';
import { deviceStoreContract } from './device-store.contract.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';

const unreachable = await probePostgres();

describe('PostgresDeviceStore', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  let admin: pg.Client | undefined;

  before(async () => {
    admin = await adminClient(unreachable);
  });
  after(async () => {
    await dropSchema(admin, schema);
    await admin?.end();
  });

  // One schema per suite; each test starts from an emptied table (migrations ran once).
  deviceStoreContract(async () => {
    const store = await openDeviceStore({ kind: 'postgres', url: postgresUrl, schema });
    // CASCADE: the provisioning tables refer to devices.
    await admin?.query(`TRUNCATE "${schema}".devices CASCADE`);
    return store;
  });

  it('keeps its tables inside the configured schema', async () => {
    const store = await openDeviceStore({ kind: 'postgres', url: postgresUrl, schema });
    await store.close();
    const tables = await admin?.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    assert.deepEqual(
      tables?.rows.map((row) => row.table_name),
      [
        'alert_events',
        'alert_notifications',
        'alert_rule_seeds',
        'alert_rule_state',
        'alert_rules',
        'alerts',
        'api_tokens',
        'audit_log',
        'batches',
        'certificates',
        'config_defaults',
        'dashboard_snapshots',
        'deployments',
        'device_capabilities',
        'device_config',
        'device_groups',
        'device_tokens',
        'devices',
        'expected_devices',
        'job_executions',
        'jobs',
        'release_deltas',
        'releases',
        'role_bindings',
        'rollout_devices',
        'rollout_events',
        'rollouts',
        'schema_migrations',
        'sessions',
        'telemetry_archives',
        'telemetry_batches',
        'telemetry_events',
        'telemetry_latest',
        'telemetry_rollups',
        'telemetry_windows',
        'update_executions',
        'update_history',
        'users',
      ],
    );
  });
});
