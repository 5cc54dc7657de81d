import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { alertRuleStoreContract } from './alert-rule-store.contract.ts';

const files = tempDatabaseFiles('alert-rules');
before(() => files.open());
after(() => files.close());

describe('SqliteAlertRuleStore', () => {
  alertRuleStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
