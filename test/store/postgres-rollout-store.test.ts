import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { rolloutStoreContract } from './rollout-store.contract.ts';

await describePostgresContract('PostgresRolloutStore', rolloutStoreContract, [
  'rollouts',
  'rollout_devices',
  'rollout_events',
]);
