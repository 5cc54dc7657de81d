import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type pg from 'pg';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import {
  adminClient,
  describePostgresContract,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { retentionRig, sampleBatches, type RetentionRig } from '../telemetry/retention-fixture.ts';
import { telemetryRetentionStoreContract } from './telemetry-retention-store.contract.ts';

await describePostgresContract('PostgresTelemetryRetentionStore', telemetryRetentionStoreContract, [
  'devices',
  'telemetry_batches',
  'telemetry_windows',
  'telemetry_events',
  'telemetry_rollups',
  'telemetry_latest',
  'telemetry_archives',
]);

const unreachable = await probePostgres();

describe('PostgreSQL retention: expired day partitions', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  let admin: pg.Client | undefined;
  let stores: Stores;
  let rig: RetentionRig;
  before(async () => {
    admin = await adminClient(unreachable);
    stores = await openStores({ kind: 'postgres', url: postgresUrl, schema });
    rig = await retentionRig(stores);
  });
  after(async () => {
    await stores.close();
    await rig.close();
    await dropSchema(admin, schema);
    await admin?.end();
  });

  const partitions = async (): Promise<string[]> => {
    const result = await admin?.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
      [schema],
    );
    return result?.rows.map((r) => r.name) ?? [];
  };

  it('drops a day partition once every source of it is archived, deletes rows of a partly expired one', async () => {
    await stores.telemetry.writeBatches(sampleBatches(['dev-a', 'dev-b']));
    const report = await rig.job().runOnce();
    assert.equal(report.archived.length, 12);
    // Windows: health kept 3 days, app 2 — days before Nov 24 are past both, so dropped; Nov 24
    // keeps its health rows (app rows deleted). Events: kept 4 days, days before Nov 23 dropped.
    assert.deepEqual(await partitions(), [
      'telemetry_events_p20261123',
      'telemetry_events_p20261124',
      'telemetry_events_p20261125',
      'telemetry_events_p20261126',
      'telemetry_events_p20261127',
      'telemetry_windows_p20261124',
      'telemetry_windows_p20261125',
      'telemetry_windows_p20261126',
      'telemetry_windows_p20261127',
    ]);
    assert.ok(report.droppedPartitions >= 7);
    const kinds = await admin?.query<{ kind: string }>(
      `SELECT DISTINCT kind FROM "${schema}".telemetry_windows_p20261124`,
    );
    assert.deepEqual(
      kinds?.rows.map((r) => r.kind),
      ['health'],
    );

    // Every archived row reads back with an independent reader.
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const counted = (
      await duck.runAndReadAll(
        `SELECT kind, count(*)::INTEGER AS n FROM read_parquet('${join(rig.root, 'windows', '**', '*.parquet')}',
          hive_partitioning = true) GROUP BY kind ORDER BY kind`,
      )
    ).getRowObjectsJson();
    assert.deepEqual(counted, [
      { kind: 'app', n: 20 },
      { kind: 'health', n: 16 },
    ]);

    // A day later, Nov 24 is past both retentions: its health rows go and the partition with them.
    rig.time.advance(86_400_000);
    const next = await rig.job().runOnce();
    assert.ok(next.droppedPartitions >= 2);
    assert.ok(!(await partitions()).includes('telemetry_windows_p20261124'));
    assert.ok(!(await partitions()).includes('telemetry_events_p20261123'));
  });
});
