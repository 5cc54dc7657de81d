import { describePostgresContract } from '../helpers/postgres-test-env.ts';
import { alertRuleStoreContract } from './alert-rule-store.contract.ts';

await describePostgresContract('PostgresAlertRuleStore', alertRuleStoreContract, [
  'alert_rules',
  'alert_rule_seeds',
  'alert_rule_state',
]);
