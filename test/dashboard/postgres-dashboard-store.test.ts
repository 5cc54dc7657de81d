import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { dashboardStoreContract } from './dashboard-store.contract.ts';

await describePostgresContract('PostgresDashboardStore', dashboardStoreContract, [
  'dashboard_snapshots',
  'devices',
  'releases',
  'rollouts',
]);
