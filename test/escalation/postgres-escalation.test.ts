import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { escalationContract } from './escalation.contract.ts';

await describePostgresContract('escalation on PostgreSQL', escalationContract, [
  'alerts',
  'alert_events',
  'alert_notifications',
  'audit_log',
]);
