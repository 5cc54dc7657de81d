/**
 * Shared set-up for the PostgreSQL store tests: where the test server is, whether it answers,
 * and throw-away schemas. Without a server the suites skip visibly, except under CI where a
 * missing database must fail the build rather than hide untested code.
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { migratePostgres, postgresMigrations } from '../../src/store/postgres/migrations.ts';
import { createPgPool } from '../../src/store/postgres/pg-pool.ts';

export const postgresUrl =
  process.env.FLOTILLA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    const reason = error instanceof Error && error.message !== '' ? error.message : String(error);
    return `PostgreSQL unreachable at ${withoutPassword(postgresUrl)}: ${reason}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'FLOTILLA_TEST_POSTGRES_URL';
  }
}

/** The `skip` option for a suite: skip with the reason locally, never under CI. */
export function skipUnlessCi(unreachable: string | undefined): string | false {
  return unreachable !== undefined && process.env.CI === undefined ? unreachable : false;
}

export function uniqueSchemaName(): string {
  return `flotilla_test_${randomBytes(6).toString('hex')}`;
}

/** A client for test set-up and inspection, outside the store under test. */
export async function adminClient(unreachable: string | undefined): Promise<pg.Client> {
  // Under CI an unreachable server is not skipped: fail here with the probe's reason.
  if (unreachable !== undefined) throw new Error(unreachable);
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  return client;
}

export async function dropSchema(client: pg.Client | undefined, schema: string): Promise<void> {
  // The name comes from uniqueSchemaName(), so it is a plain identifier.
  await client?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Creates `schema` migrated only up to `version`, holding one device `d-old` (serial S-old, owner ops). */
export async function schemaAtVersion(schema: string, version: number): Promise<void> {
  const target = createPgPool(postgresUrl, schema);
  try {
    await migratePostgres(target.pool, schema, postgresMigrations.slice(0, version));
    await target.pool.query(
      `INSERT INTO devices (id, serial, tags, owner, created_at) VALUES ('d-old', 'S-old', '{"site":"ber"}', 'ops', $1)`,
      [new Date(1000)],
    );
  } finally {
    await target.pool.end();
  }
}

/**
 * Runs a store contract suite on PostgreSQL: one throw-away schema for the suite (migrations run
 * once), `tables` emptied (TRUNCATE … CASCADE) before each test; skipped visibly without a server.
 */
export async function describePostgresContract(
  name: string,
  contract: (makeStores: () => Promise<Stores>) => void,
  tables: readonly string[],
): Promise<void> {
  const unreachable = await probePostgres();
  describe(name, { skip: skipUnlessCi(unreachable) }, () => {
    const schema = uniqueSchemaName();
    let admin: pg.Client | undefined;
    before(async () => {
      admin = await adminClient(unreachable);
    });
    after(async () => {
      await dropSchema(admin, schema);
      await admin?.end();
    });
    contract(async () => {
      const stores = await openStores({ kind: 'postgres', url: postgresUrl, schema });
      await admin?.query(`TRUNCATE ${tables.map((t) => `"${schema}".${t}`).join(', ')} CASCADE`);
      return stores;
    });
  });
}
