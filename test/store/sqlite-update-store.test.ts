import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { updateStoreContract } from './update-store.contract.ts';

const files = tempDatabaseFiles('updates');

before(() => files.open());
after(() => files.close());

describe('SqliteUpdateStore', () => {
  updateStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
