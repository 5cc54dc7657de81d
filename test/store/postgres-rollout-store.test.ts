import { after, before, describe } from 'node:test';
import type pg from 'pg';
import { openStores } from '../../src/store/open-store.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { rolloutStoreContract } from './rollout-store.contract.ts';

const unreachable = await probePostgres();

describe('PostgresRolloutStore', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  let admin: pg.Client | undefined;

  before(async () => {
    admin = await adminClient(unreachable);
  });
  after(async () => {
    await dropSchema(admin, schema);
    await admin?.end();
  });

  // One schema per suite; each test starts from emptied tables (migrations ran once).
  rolloutStoreContract(async () => {
    const stores = await openStores({ kind: 'postgres', url: postgresUrl, schema });
    await admin?.query(
      `TRUNCATE "${schema}".rollouts, "${schema}".rollout_devices, "${schema}".rollout_events`,
    );
    return stores;
  });
});
