import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { updateStoreContract } from './update-store.contract.ts';

await describePostgresContract('PostgresUpdateStore', updateStoreContract, ['devices', 'releases']);
