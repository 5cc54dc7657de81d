/**
 * One pg.Pool as the stores use it: queries and transactions whose failures arrive as the store's
 * typed errors, and one closed state shared by every store built on the pool.
 */
import type pg from 'pg';
import { UnavailableError } from '../../infra/errors.ts';
import { inTransaction, toStoreError, type PgTarget } from './pg-pool.ts';

export class PgSession {
  readonly #target: PgTarget;
  #closed = false;

  constructor(target: PgTarget) {
    this.#target = target;
  }

  /** UnavailableError once closed, before any connection is attempted. */
  checkOpen(): void {
    if (this.#closed) throw new UnavailableError('the PostgreSQL store is closed');
  }

  async query<R extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    this.checkOpen();
    try {
      return await this.#target.pool.query<R>(text, params);
    } catch (error) {
      throw toStoreError(error, this.#target);
    }
  }

  /** Runs `work` in one transaction on one connection; a throw rolls it back. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.checkOpen();
    try {
      return await inTransaction(this.#target.pool, work);
    } catch (error) {
      throw toStoreError(error, this.#target);
    }
  }

  /** Idempotent; ends the pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#target.pool.end();
  }
}

export function firstRow<R extends pg.QueryResultRow>(result: pg.QueryResult<R>): R {
  const row = result.rows[0];
  if (row === undefined) throw new Error('statement returned no row');
  return row;
}
