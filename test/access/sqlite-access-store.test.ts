/** The AccessStore contract on SQLite. */
import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { accessStoreContract } from './access-store.contract.ts';

const files = tempDatabaseFiles('access');
before(() => files.open());
after(() => files.close());

describe('AccessStore on SQLite', () => {
  accessStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
