/** The fleet-metrics contract on SQLite; latest telemetry written into telemetry_latest. */
import { after, before } from 'node:test';
import Database from 'better-sqlite3';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { fleetMetricsContract } from './fleet-metrics-store.contract.ts';

const files = tempDatabaseFiles('fleet-metrics');
before(() => files.open());
after(() => files.close());

fleetMetricsContract(async () => {
  const file = files.fresh();
  const stores = await openStores({ kind: 'sqlite', file });
  const admin = new Database(file);
  const insert = admin.prepare(
    "INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value) VALUES (?, ?, 'health', 0, ?)",
  );
  return {
    stores,
    addTelemetry: (rows) => {
      for (const row of rows) insert.run(row.deviceId, row.metric, row.value);
      return Promise.resolve();
    },
    close: async () => {
      admin.close();
      await stores.close();
    },
  };
});
