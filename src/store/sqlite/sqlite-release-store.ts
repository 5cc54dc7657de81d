/**
 * The release store on the same better-sqlite3 handle as the other stores. Every operation is one
 * statement; the primary key decides a duplicate version (release-rows.ts).
 */
import type Database from 'better-sqlite3';
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
import { runSync } from './sqlite-errors.ts';

type SqliteReleaseRow = ReleaseRow<number, string, number, number>;

const codec: ReleaseCodec<number, string, number, number> = {
  time: (ms) => ms,
  timeMs: (value) => value,
  revisions: (value) => JSON.stringify(value),
  // Only the store writes the column, always from a string[].
  readRevisions: (value) => JSON.parse(value) as string[],
  readSize: (value) => value,
  // SQLite has no boolean; STRICT tables hold 0/1 (checked by the table).
  flag: (value) => (value ? 1 : 0),
  readFlag: (value) => value === 1,
};

const placeholder = () => '?';

export class SqliteReleaseStore implements ReleaseStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<unknown[], SqliteReleaseRow>;
  readonly #select: Database.Statement<[string, string], SqliteReleaseRow>;
  readonly #selectAll: Database.Statement<[], SqliteReleaseRow>;
  readonly #selectByModel: Database.Statement<[string], SqliteReleaseRow>;
  readonly #upsertDelta: Database.Statement<unknown[], ReleaseDeltaRow<number, number>>;
  readonly #selectDeltas: Database.Statement<[string, string], ReleaseDeltaRow<number, number>>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(insertReleaseSql(placeholder));
    this.#select = db.prepare(selectReleaseSql(placeholder));
    this.#selectAll = db.prepare(selectReleasesSql(placeholder, false));
    this.#selectByModel = db.prepare(selectReleasesSql(placeholder, true));
    this.#upsertDelta = db.prepare(upsertDeltaSql(placeholder));
    this.#selectDeltas = db.prepare(selectDeltasSql(placeholder));
  }

  createRelease(release: NewRelease, atMs: number): Promise<Release> {
    return runSync(this.#db, () => {
      validateNewRelease(release);
      const row = this.#insert.get(...releaseParams(release, atMs, codec));
      if (row === undefined) throw releaseConflict(release);
      return releaseFromRow(row, codec);
    });
  }

  getRelease(hardwareModel: string, version: string): Promise<Release | undefined> {
    return runSync(this.#db, () => {
      const row = this.#select.get(hardwareModel, version);
      return row && releaseFromRow(row, codec);
    });
  }

  listReleases(filter: ReleaseFilter): Promise<Release[]> {
    return runSync(this.#db, () => {
      const { hardwareModel } = filter;
      const rows =
        hardwareModel === undefined ? this.#selectAll.all() : this.#selectByModel.all(hardwareModel);
      return orderReleases(
        rows.map((row) => releaseFromRow(row, codec)),
        filter,
      );
    });
  }

  recordDelta(delta: NewReleaseDelta, atMs: number): Promise<ReleaseDelta> {
    return runSync(this.#db, () => {
      if (this.#select.get(delta.hardwareModel, delta.version) === undefined) {
        throw missingRelease(delta.hardwareModel, delta.version);
      }
      const row = this.#upsertDelta.get(...deltaParams(delta, atMs, (ms) => ms));
      if (row === undefined) throw missingRelease(delta.hardwareModel, delta.version);
      return deltaFromRow(row, (value) => value);
    });
  }

  listDeltas(hardwareModel: string, version: string): Promise<ReleaseDelta[]> {
    return runSync(this.#db, () =>
      orderDeltas(this.#selectDeltas.all(hardwareModel, version).map((row) => deltaFromRow(row, (v) => v))),
    );
  }
}
