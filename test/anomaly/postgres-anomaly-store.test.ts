import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { anomalyStoreContract } from './anomaly-store.contract.ts';

await describePostgresContract('PostgresAnomalyStore', anomalyStoreContract, [
  'devices',
  'telemetry_batches',
  'telemetry_windows',
  'telemetry_events',
  'telemetry_rollups',
  'telemetry_latest',
]);
