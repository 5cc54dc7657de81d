import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { dashboardStoreContract } from './dashboard-store.contract.ts';

const files = tempDatabaseFiles('dashboard');

before(() => files.open());
after(() => files.close());

describe('SqliteDashboardStore', () => {
  dashboardStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
