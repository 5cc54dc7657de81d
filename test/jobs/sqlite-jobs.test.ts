import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { jobFlowContract } from './job-flow.contract.ts';
import { jobStoreContract } from './job-store.contract.ts';

const files = tempDatabaseFiles('jobs');

before(() => files.open());
after(() => files.close());

describe('SqliteJobStore', () => {
  const makeStores = () => openStores({ kind: 'sqlite', file: files.fresh() });
  jobStoreContract(makeStores);
  jobFlowContract(makeStores);
});
