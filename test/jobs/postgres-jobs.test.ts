import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { jobFlowContract } from './job-flow.contract.ts';
import { jobStoreContract } from './job-store.contract.ts';

const tables = ['jobs', 'job_executions', 'device_capabilities', 'devices', 'audit_log', 'device_groups'];

await describePostgresContract('PostgresJobStore', jobStoreContract, tables);
await describePostgresContract('PostgresJobStore flow', jobFlowContract, tables);
