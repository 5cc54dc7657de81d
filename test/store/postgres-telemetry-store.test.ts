import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { openStores } from '../../src/store/open-store.ts';
import { DAY_MS } from '../../src/telemetry/rollups.ts';
import {
  adminClient,
  describePostgresContract,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { batch, telemetryStoreContract, tt0, windowRow } from './telemetry-store.contract.ts';

await describePostgresContract('PostgresTelemetryStore', telemetryStoreContract, [
  'devices',
  'telemetry_batches',
  'telemetry_windows',
  'telemetry_events',
  'telemetry_rollups',
  'telemetry_latest',
]);

const unreachable = await probePostgres();

describe('PostgresTelemetryStore day partitions', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  let admin: pg.Client | undefined;
  before(async () => {
    admin = await adminClient(unreachable);
  });
  after(async () => {
    await dropSchema(admin, schema);
    await admin?.end();
  });

  it('creates each day partition on demand, once, when several writers need it at the same time', async () => {
    const writers = await Promise.all(
      [1, 2, 3].map(() => openStores({ kind: 'postgres', url: postgresUrl, schema })),
    );
    try {
      const day2 = tt0 + 2 * DAY_MS;
      const outcomes = await Promise.all(
        writers.map((stores, i) =>
          stores.telemetry.writeBatches([
            batch(`d${i}`, 1, {
              windows: [windowRow({ startMs: tt0 }), windowRow({ startMs: day2, endMs: day2 + 1000 })],
              events: [{ type: 'boot', atMs: day2, severity: 'info', code: 'power_on' }],
            }),
          ]),
        ),
      );
      assert.deepEqual(outcomes, [['stored'], ['stored'], ['stored']]);
      const partitions = await admin?.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
        [schema],
      );
      assert.deepEqual(
        partitions?.rows.map((r) => r.name).filter((name) => !name.endsWith('_idx')),
        ['telemetry_events_p20250103', 'telemetry_windows_p20250101', 'telemetry_windows_p20250103'],
      );
      const rows = await admin?.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${schema}".telemetry_windows_p20250103`,
      );
      assert.equal(rows?.rows[0]?.n, '3');
    } finally {
      for (const stores of writers) await stores.close();
    }
  });
});
