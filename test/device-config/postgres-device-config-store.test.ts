/** The DeviceConfigStore contract on PostgreSQL. */
import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { deviceConfigStoreContract } from './device-config-store.contract.ts';

await describePostgresContract(
  'DeviceConfigStore on PostgreSQL',
  (makeStores) =>
    deviceConfigStoreContract(async () => {
      const stores = await makeStores();
      return { store: stores.deviceConfig, close: () => stores.close() };
    }),
  ['device_config', 'config_defaults'],
);
