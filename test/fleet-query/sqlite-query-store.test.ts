/** The fleet-query and group-store contracts on SQLite; latest telemetry written into telemetry_latest. */
import { after, before } from 'node:test';
import Database from 'better-sqlite3';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { fleetQueryContract } from './fleet-query-store.contract.ts';
import { groupStoreContract } from './group-store.contract.ts';

const files = tempDatabaseFiles('fleet-query');
before(() => files.open());
after(() => files.close());

fleetQueryContract(async () => {
  const file = files.fresh();
  const stores = await openStores({ kind: 'sqlite', file });
  // Latest values as the telemetry store keeps them (its own writes are tested in test/store).
  const admin = new Database(file);
  const insert = admin.prepare(
    "INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value) VALUES (?, ?, 'health', 0, ?)",
  );
  return {
    devices: stores.devices,
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

groupStoreContract(async () => {
  const stores = await openStores({ kind: 'sqlite', file: files.fresh() });
  return { groups: stores.groups, close: () => stores.close() };
});
