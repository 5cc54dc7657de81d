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
import { certificateRequest, newBatch, numberedSerials, t0 } from './provisioning-fixtures.ts';
import { auditLogContract } from './audit-log.contract.ts';
import { provisioningStoreContract } from './provisioning-store.contract.ts';

const unreachable = await probePostgres();

/** Every table the stores write, emptied between tests. */
const provisioningTables = [
  'audit_log',
  'device_tokens',
  'certificates',
  'expected_devices',
  'batches',
  'devices',
];

describe('PostgresProvisioningStore', { skip: skipUnlessCi(unreachable) }, () => {
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

  // One schema per suite; each test starts from emptied tables (migrations ran once).
  const emptyTables = async () => {
    const tables = provisioningTables.map((table) => `"${schema}".${table}`).join(', ');
    // CASCADE: the update tables refer to devices (and are empty here).
    await admin?.query(`TRUNCATE ${tables} RESTART IDENTITY CASCADE`);
  };
  provisioningStoreContract(async () => {
    const stores = await open();
    await emptyTables();
    return stores;
  });
  auditLogContract(
    async () => {
      const stores = await open();
      await emptyTables();
      return stores;
    },
    () => async (statement) => {
      await admin?.query(statement.replaceAll('audit_log', `"${schema}".audit_log`));
    },
  );

  it('never exceeds the claim limit across replicas sharing the schema', async () => {
    const first = await open();
    const second = await open();
    try {
      await emptyTables();
      await first.provisioning.createBatch(newBatch({ ...numberedSerials(20), claimLimit: 10 }), t0);
      const replica = (i: number) => (i % 2 === 0 ? first : second).provisioning;
      const outcomes = await Promise.allSettled(
        numberedSerials(20).serials.map((serial, i) =>
          replica(i).completeProvisioning(certificateRequest(serial)),
        ),
      );
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 10);
      assert.equal((await second.provisioning.getBatch('b-1'))?.claimUses, 10);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('upgrades a version-1 schema and keeps its devices', async () => {
    const v1Schema = uniqueSchemaName();
    otherSchemas.push(v1Schema);
    await schemaAtVersion(v1Schema, 1);

    const stores = await open(v1Schema);
    try {
      const device = await stores.devices.getDevice('d-old');
      assert.deepEqual([device?.serial, device?.tags, device?.owner], ['S-old', { site: 'ber' }, 'ops']);
      assert.equal(await stores.provisioning.isDeviceRevoked('d-old'), false);
      await stores.provisioning.createBatch(newBatch(), t0);
      await stores.provisioning.completeProvisioning(certificateRequest('S1'));
      assert.equal((await stores.devices.fleetSummary()).total, 2);
    } finally {
      await stores.close();
    }
    const ledger = await admin?.query<{ version: number }>(
      `SELECT version FROM "${v1Schema}".schema_migrations ORDER BY version`,
    );
    assert.deepEqual(
      ledger?.rows.map((row) => row.version),
      postgresMigrations.map((migration) => migration.version),
    );
  });
});
