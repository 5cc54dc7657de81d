import { after, before, describe } from 'node:test';
import { openStores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { telemetryRetentionStoreContract } from './telemetry-retention-store.contract.ts';

const files = tempDatabaseFiles('telemetry-retention');

before(() => files.open());
after(() => files.close());

describe('SqliteTelemetryRetentionStore', () => {
  telemetryRetentionStoreContract(() => openStores({ kind: 'sqlite', file: files.fresh() }));
});
