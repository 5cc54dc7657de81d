/**
 * The releases table's row shape and SQL, shared by both stores. The dialects differ only in how
 * they hold times (epoch ms vs timestamptz), the revisions (JSON text vs jsonb), the size (integer
 * vs bigint, which pg returns as text) and flags (0/1 vs boolean), so a codec is passed in.
 */
import { isoTime } from '../infra/clock.ts';
import { releaseId } from './release-rules.ts';
import type { NewRelease, Release } from './release-types.ts';

export interface ReleaseRow<Time, Json, Size, Flag> {
  hardware_model: string;
  version: string;
  hardware_revisions: Json;
  sha256: string;
  size: Size;
  security: Flag;
  min_version: string | null;
  mandatory: Flag;
  notes: string;
  created_at: Time;
  created_by: string;
}

/** How one dialect writes and reads the columns whose SQL type differs. */
export interface ReleaseCodec<Time, Json, Size, Flag> {
  time(ms: number): Time;
  /** ms since epoch */
  timeMs(value: Time): number;
  revisions(value: string[]): unknown;
  readRevisions(value: Json): string[];
  readSize(value: Size): number;
  flag(value: boolean): unknown;
  readFlag(value: Flag): boolean;
}

const columns =
  'hardware_model, version, hardware_revisions, sha256, size, security, min_version, mandatory, notes, created_at, created_by';

type Placeholder = (position: number) => string;

/**
 * Inserts a release and returns its row, or no row when the model already has the version: the
 * primary key decides, so two concurrent publishers cannot both succeed.
 */
export function insertReleaseSql(placeholder: Placeholder): string {
  const values = columns
    .split(', ')
    .map((_, index) => placeholder(index + 1))
    .join(', ');
  return `INSERT INTO releases (${columns}) VALUES (${values})
    ON CONFLICT (hardware_model, version) DO NOTHING RETURNING ${columns}`;
}

export function selectReleaseSql(placeholder: Placeholder): string {
  return `SELECT ${columns} FROM releases WHERE hardware_model = ${placeholder(1)} AND version = ${placeholder(2)}`;
}

/** All releases, or one model's (served by the primary key's leading column); ordered in TypeScript. */
export function selectReleasesSql(placeholder: Placeholder, byModel: boolean): string {
  const where = byModel ? ` WHERE hardware_model = ${placeholder(1)}` : '';
  return `SELECT ${columns} FROM releases${where}`;
}

/** Parameters for insertReleaseSql, in column order. */
export function releaseParams<Time, Json, Size, Flag>(
  release: NewRelease,
  atMs: number,
  codec: ReleaseCodec<Time, Json, Size, Flag>,
): unknown[] {
  return [
    release.hardwareModel,
    release.version,
    codec.revisions(release.hardwareRevisions),
    release.sha256,
    release.size,
    codec.flag(release.security),
    release.minVersion,
    codec.flag(release.mandatory),
    release.notes,
    codec.time(atMs),
    release.createdBy,
  ];
}

export function releaseFromRow<Time, Json, Size, Flag>(
  row: ReleaseRow<Time, Json, Size, Flag>,
  codec: ReleaseCodec<Time, Json, Size, Flag>,
): Release {
  return {
    id: releaseId(row.hardware_model, row.version),
    version: row.version,
    hardwareModel: row.hardware_model,
    hardwareRevisions: codec.readRevisions(row.hardware_revisions),
    sha256: row.sha256,
    size: codec.readSize(row.size),
    security: codec.readFlag(row.security),
    minVersion: row.min_version,
    mandatory: codec.readFlag(row.mandatory),
    notes: row.notes,
    createdAt: isoTime(codec.timeMs(row.created_at)),
    createdBy: row.created_by,
  };
}
