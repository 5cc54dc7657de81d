/**
 * The PostgreSQL connection pool and the translation of its failures into Flotilla's typed
 * errors. Every connection starts with search_path set to the configured schema.
 */
import pg from 'pg';
import { ConfigError, FlotillaError, UnavailableError } from '../../infra/errors.ts';

/** How long acquiring a connection may take before the store reports PostgreSQL unavailable. */
const connectTimeoutMs = 5000;

const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PgTarget {
  pool: pg.Pool;
  /** `user@host:port/database`, without the password, for error messages. */
  description: string;
}

/** The schema name as a quoted identifier; ConfigError unless it is a plain lower-case identifier. */
export function schemaIdentifier(schema: string): string {
  if (!schemaNamePattern.test(schema)) {
    throw new ConfigError(`PostgreSQL schema "${schema}" must match ${String(schemaNamePattern)}`, {
      schema,
    });
  }
  return `"${schema}"`;
}

export function createPgPool(url: string, schema: string): PgTarget {
  const identifier = schemaIdentifier(schema);
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    // A start-up parameter rather than a SET after connecting: no query on a new connection can
    // run before it, and it costs no extra round trip.
    options: `-c search_path=${identifier}`,
  });
  // An idle connection that drops (server restart) is discarded by the pool; without a listener
  // the 'error' event would crash the process. The next query reconnects or fails as unavailable.
  pool.on('error', () => undefined);
  return { pool, description: describeTarget(url) };
}

function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
    return `${user}${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the configured PostgreSQL server';
  }
}

// SQLSTATE classes meaning "cannot talk to the database" (PostgreSQL docs, appendix A):
// 08 connection exception, 28 invalid authorization, 3D unknown database, 53 insufficient
// resources (too many connections), 57P operator intervention (shutdown, restart).
const unavailableSqlStates = /^(08|28|3D|53|57P)/;

/**
 * Maps a failure to the store's error: typed errors pass through, SQL errors other than the
 * connection classes pass through (callers map constraint violations), and anything else —
 * refused or dropped connections, timeouts, a closed pool — becomes UnavailableError.
 */
export function toStoreError(error: unknown, target: PgTarget): unknown {
  if (error instanceof FlotillaError) return error;
  if (error instanceof pg.DatabaseError && !unavailableSqlStates.test(error.code ?? '')) return error;
  return new UnavailableError(`PostgreSQL unavailable at ${target.description}: ${reasonOf(error)}`, {
    target: target.description,
  });
}

function reasonOf(error: unknown): string {
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(reasonOf).join('; ');
  }
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    return error.message !== '' ? error.message : (code ?? error.name);
  }
  return String(error);
}

/** Runs `work` in one transaction on one pooled connection. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // the connection itself failed; do not return it to the pool
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Whether a SQL error is a unique violation, and of which index or constraint. */
export function uniqueViolation(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError && error.code === '23505' ? (error.constraint ?? '') : undefined;
}
