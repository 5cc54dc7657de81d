import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { ConfigError, UnavailableError } from '../../src/infra/errors.ts';
import { openDeviceStore } from '../../src/store/open-store.ts';
import { postgresMigrations } from '../../src/store/postgres/migrations.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';

const unreachable = await probePostgres();

describe('PostgreSQL migrations', { skip: skipUnlessCi(unreachable) }, () => {
  const schemas: string[] = [];
  let admin: pg.Client | undefined;
  const freshSchema = () => {
    const schema = uniqueSchemaName();
    schemas.push(schema);
    return schema;
  };
  const open = (schema: string) => openDeviceStore({ kind: 'postgres', url: postgresUrl, schema });
  const ledger = async (schema: string) =>
    (
      await admin?.query(
        `SELECT version, name, applied_at FROM "${schema}".schema_migrations ORDER BY version`,
      )
    )?.rows;

  before(async () => {
    admin = await adminClient(unreachable);
  });
  after(async () => {
    for (const schema of schemas) await dropSchema(admin, schema);
    await admin?.end();
  });

  it('creates the schema, and reopening applies nothing again', async () => {
    const schema = freshSchema();
    const first = await open(schema);
    await first.createDevice({ id: 'd1', serial: 'S1' }, 1000);
    await first.close();
    const applied = await ledger(schema);
    assert.equal(applied?.length, postgresMigrations.length);

    const second = await open(schema);
    assert.equal((await second.getDevice('d1'))?.serial, 'S1');
    await second.close();
    assert.deepEqual(await ledger(schema), applied);
  });

  it('lets replicas that start together migrate once', async () => {
    const schema = freshSchema();
    const stores = await Promise.all([open(schema), open(schema), open(schema)]);
    await Promise.all(stores.map((store) => store.close()));
    assert.equal((await ledger(schema))?.length, postgresMigrations.length);
  });

  it('refuses a database written by a newer Flotilla', async () => {
    const schema = freshSchema();
    await (await open(schema)).close();
    await admin?.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (99, 'future')`);
    await assert.rejects(open(schema), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /newer Flotilla/);
      return true;
    });
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(open('Robert"; DROP TABLE x; --'), ConfigError);
  });

  it('reports an unreachable server as UnavailableError naming it', async () => {
    const url = 'postgres://postgres:secret@127.0.0.1:1/test';
    await assert.rejects(openDeviceStore({ kind: 'postgres', url, schema: 'flotilla' }), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /127\.0\.0\.1:1\/test/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
  });
});
