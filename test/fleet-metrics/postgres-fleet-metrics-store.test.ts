/** The fleet-metrics contract on PostgreSQL; latest telemetry written into telemetry_latest. */
import { after, before, describe } from 'node:test';
import type pg from 'pg';
import { openStores } from '../../src/store/open-store.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { fleetMetricsContract } from './fleet-metrics-store.contract.ts';

const unreachable = await probePostgres();

describe('fleet metrics on PostgreSQL', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  let admin: pg.Client | undefined;
  before(async () => {
    admin = await adminClient(unreachable);
  });
  after(async () => {
    await dropSchema(admin, schema);
    await admin?.end();
  });

  fleetMetricsContract(async () => {
    const stores = await openStores({ kind: 'postgres', url: postgresUrl, schema });
    return {
      stores,
      addTelemetry: async (rows) => {
        for (const row of rows)
          await admin?.query(
            `INSERT INTO "${schema}".telemetry_latest (device_id, metric, kind, at_ms, value) VALUES ($1, $2, 'health', 0, $3)`,
            [row.deviceId, row.metric, row.value],
          );
      },
      close: () => stores.close(),
    };
  });
});
