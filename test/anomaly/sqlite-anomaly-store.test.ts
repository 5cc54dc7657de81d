import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { anomalyStoreContract } from './anomaly-store.contract.ts';

const files = tempDatabaseFiles('anomaly');

before(() => files.open());
after(() => files.close());

describe('SqliteAnomalyStore', () => {
  anomalyStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
