import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { openStores } from '../../src/store/open-store.ts';
import { postgresMigrations } from '../../src/store/postgres/migrations.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  schemaAtVersion,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { assertUpgradedKeepsDevices, releaseStoreContract } from './release-store.contract.ts';

const unreachable = await probePostgres();

describe('PostgresReleaseStore', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  const otherSchemas: string[] = [];
  let admin: pg.Client | undefined;
  const open = (inSchema = schema) => openStores({ kind: 'postgres', url: postgresUrl, schema: inSchema });

  before(async () => {
    admin = await adminClient(unreachable);
  });
  after(async () => {
    for (const name of [schema, ...otherSchemas]) await dropSchema(admin, name);
    await admin?.end();
  });

  // One schema per suite; each test starts from an emptied table (migrations ran once).
  releaseStoreContract(async () => {
    const stores = await open();
    await admin?.query(`TRUNCATE "${schema}".release_deltas, "${schema}".releases`);
    return stores;
  });

  it('upgrades a version-2 schema and keeps its devices', async () => {
    const v2Schema = uniqueSchemaName();
    otherSchemas.push(v2Schema);
    await schemaAtVersion(v2Schema, 2);

    const stores = await open(v2Schema);
    try {
      await assertUpgradedKeepsDevices(stores);
    } finally {
      await stores.close();
    }
    const ledger = await admin?.query<{ version: number }>(
      `SELECT version FROM "${v2Schema}".schema_migrations ORDER BY version`,
    );
    assert.deepEqual(
      ledger?.rows.map((row) => row.version),
      postgresMigrations.map((migration) => migration.version),
    );
  });
});
