import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { alertStoreContract } from './alert-store.contract.ts';

const files = tempDatabaseFiles('alerts');

before(() => files.open());
after(() => files.close());

describe('SqliteAlertStore', () => {
  alertStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
