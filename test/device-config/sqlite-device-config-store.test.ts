/** The DeviceConfigStore contract on SQLite. */
import { after, before } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { deviceConfigStoreContract } from './device-config-store.contract.ts';

const files = tempDatabaseFiles('device-config');
before(() => files.open());
after(() => files.close());

deviceConfigStoreContract(async () => {
  const stores = await openStores({ kind: 'sqlite', file: files.fresh() });
  return { store: stores.deviceConfig, close: () => stores.close() };
});
