import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { alertStoreContract } from './alert-store.contract.ts';

await describePostgresContract('PostgresAlertStore', alertStoreContract, ['alerts', 'alert_events']);
