/** The fleet-query and group-store contracts on SQLite, with a throw-away telemetry_latest table. */
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
  // The real table comes from the telemetry module; this one has the same columns.
  const admin = new Database(file);
  admin.exec(`CREATE TABLE telemetry_latest (
    device_id TEXT NOT NULL, metric TEXT NOT NULL, at_ms INTEGER NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (device_id, metric)) STRICT`);
  const insert = admin.prepare(
    'INSERT INTO telemetry_latest (device_id, metric, at_ms, value) VALUES (?, ?, 0, ?)',
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
