/** The AccessStore contract on PostgreSQL. */
import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { accessStoreContract } from './access-store.contract.ts';

await describePostgresContract('AccessStore on PostgreSQL', accessStoreContract, [
  'role_bindings',
  'sessions',
  'api_tokens',
  'users',
]);
