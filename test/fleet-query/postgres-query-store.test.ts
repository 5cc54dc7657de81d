/**
 * The fleet-query and group-store contracts on PostgreSQL, with latest telemetry written into telemetry_latest, and the
 * check that the database's flotilla_version_key agrees with semver.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { versionKeyOf } from '../../src/fleet-query/semver.ts';
import { openStores } from '../../src/store/open-store.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { fleetQueryContract } from './fleet-query-store.contract.ts';
import { groupStoreContract } from './group-store.contract.ts';
import { semverCases } from './semver-cases.ts';

const unreachable = await probePostgres();

describe('fleet queries on PostgreSQL', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  let admin: pg.Client | undefined;
  before(async () => {
    admin = await adminClient(unreachable);
  });
  after(async () => {
    await dropSchema(admin, schema);
    await admin?.end();
  });

  fleetQueryContract(async () => {
    const stores = await openStores({ kind: 'postgres', url: postgresUrl, schema });
    const table = `"${schema}".telemetry_latest`;
    // Latest values as the telemetry store keeps them (its own writes are tested in test/store).
    return {
      devices: stores.devices,
      addTelemetry: async (rows) => {
        for (const row of rows) {
          await admin?.query(
            `INSERT INTO ${table} (device_id, metric, kind, at_ms, value) VALUES ($1, $2, 'health', 0, $3)`,
            [row.deviceId, row.metric, row.value],
          );
        }
      },
      close: () => stores.close(),
    };
  });

  groupStoreContract(async () => {
    const stores = await openStores({ kind: 'postgres', url: postgresUrl, schema });
    return { groups: stores.groups, close: () => stores.close() };
  });

  it('computes the same version keys as semver.ts', async () => {
    const stores = await openStores({ kind: 'postgres', url: postgresUrl, schema });
    await stores.close();
    const texts = [...semverCases.flat(), ...notVersions];
    for (const text of texts) {
      const result = await admin?.query<{ key: string | null }>(
        `SELECT "${schema}".flotilla_version_key($1) AS key`,
        [text],
      );
      assert.equal(result?.rows[0]?.key ?? undefined, versionKeyOf(text), text);
    }
  });
});

const notVersions = [
  '',
  '2.4',
  '2.4.0.1',
  '02.4.0',
  '2.4.0-',
  '2.4.0-01',
  '2.4.0+',
  'v2.4.0',
  'custom',
  `1${'0'.repeat(99)}.0.0`,
];
