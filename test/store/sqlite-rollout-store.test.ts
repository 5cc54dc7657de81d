import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { rolloutStoreContract } from './rollout-store.contract.ts';

const files = tempDatabaseFiles('rollouts');

before(() => files.open());
after(() => files.close());

describe('SqliteRolloutStore', () => {
  rolloutStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
