import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { telemetryStoreContract } from './telemetry-store.contract.ts';

const files = tempDatabaseFiles('telemetry');

before(() => files.open());
after(() => files.close());

describe('SqliteTelemetryStore', () => {
  telemetryStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
