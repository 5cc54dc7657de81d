import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { escalationContract } from './escalation.contract.ts';

const files = tempDatabaseFiles('escalation');

before(() => files.open());
after(() => files.close());

describe('escalation on SQLite', () => {
  escalationContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
