/**
 * The release store on the same pg.Pool (PgSession) as the other stores. Every operation is one
 * statement; the primary key decides a duplicate version (release-rows.ts).
 */
import {
  insertReleaseSql,
  releaseFromRow,
  releaseParams,
  selectReleaseSql,
  selectReleasesSql,
  type ReleaseCodec,
  type ReleaseRow,
} from '../release-rows.ts';
import { orderReleases, releaseConflict, validateNewRelease } from '../release-rules.ts';
import type { NewRelease, Release, ReleaseFilter, ReleaseStore } from '../release-types.ts';
import type { PgSession } from './pg-session.ts';

/** pg returns a bigint as text and parses jsonb itself. */
type PostgresReleaseRow = ReleaseRow<Date, string[], string, boolean>;

const codec: ReleaseCodec<Date, string[], string, boolean> = {
  time: (ms) => new Date(ms),
  timeMs: (value) => value.getTime(),
  // pg would send a JS array as a PostgreSQL array, not as JSON.
  revisions: (value) => JSON.stringify(value),
  readRevisions: (value) => value,
  // Sizes are checked to be safe integers on the way in.
  readSize: (value) => Number(value),
  flag: (value) => value,
  readFlag: (value) => value,
};

const placeholder = (position: number) => `$${position}`;
const insertSql = insertReleaseSql(placeholder);
const selectSql = selectReleaseSql(placeholder);
const selectAllSql = selectReleasesSql(placeholder, false);
const selectByModelSql = selectReleasesSql(placeholder, true);

export class PostgresReleaseStore implements ReleaseStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async createRelease(release: NewRelease, atMs: number): Promise<Release> {
    validateNewRelease(release);
    const result = await this.#session.query<PostgresReleaseRow>(
      insertSql,
      releaseParams(release, atMs, codec),
    );
    const row = result.rows[0];
    if (row === undefined) throw releaseConflict(release);
    return releaseFromRow(row, codec);
  }

  async getRelease(hardwareModel: string, version: string): Promise<Release | undefined> {
    const result = await this.#session.query<PostgresReleaseRow>(selectSql, [hardwareModel, version]);
    const row = result.rows[0];
    return row && releaseFromRow(row, codec);
  }

  async listReleases(filter: ReleaseFilter): Promise<Release[]> {
    const { hardwareModel } = filter;
    const result =
      hardwareModel === undefined
        ? await this.#session.query<PostgresReleaseRow>(selectAllSql, [])
        : await this.#session.query<PostgresReleaseRow>(selectByModelSql, [hardwareModel]);
    return orderReleases(
      result.rows.map((row) => releaseFromRow(row, codec)),
      filter,
    );
  }
}
