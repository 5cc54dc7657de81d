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
import {
  deltaFromRow,
  deltaParams,
  orderDeltas,
  selectDeltasSql,
  upsertDeltaSql,
  type ReleaseDeltaRow,
} from '../release-delta-rows.ts';
import { missingRelease, orderReleases, releaseConflict, validateNewRelease } from '../release-rules.ts';
import type {
  NewRelease,
  NewReleaseDelta,
  Release,
  ReleaseDelta,
  ReleaseFilter,
  ReleaseStore,
} from '../release-types.ts';
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
const upsertDeltaStatement = upsertDeltaSql(placeholder);
const selectDeltasStatement = selectDeltasSql(placeholder);

/** pg returns a bigint as text. */
type PostgresDeltaRow = ReleaseDeltaRow<Date, string>;

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

  async recordDelta(delta: NewReleaseDelta, atMs: number): Promise<ReleaseDelta> {
    // Releases are never deleted, so checking first leaves no race with the insert.
    if ((await this.getRelease(delta.hardwareModel, delta.version)) === undefined) {
      throw missingRelease(delta.hardwareModel, delta.version);
    }
    const result = await this.#session.query<PostgresDeltaRow>(
      upsertDeltaStatement,
      deltaParams(delta, atMs, (ms) => new Date(ms)),
    );
    const row = result.rows[0];
    if (row === undefined) throw missingRelease(delta.hardwareModel, delta.version);
    return deltaFromRow(row, (value) => value.getTime());
  }

  async listDeltas(hardwareModel: string, version: string): Promise<ReleaseDelta[]> {
    const result = await this.#session.query<PostgresDeltaRow>(selectDeltasStatement, [
      hardwareModel,
      version,
    ]);
    return orderDeltas(result.rows.map((row) => deltaFromRow(row, (value) => value.getTime())));
  }
}
