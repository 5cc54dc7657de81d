/**
 * The release_deltas table's row shape and SQL, shared by both stores (the dialects differ in
 * time and size columns and placeholders, as for releases in release-rows.ts).
 */
import semver from 'semver';
import { isoTime } from '../infra/clock.ts';
import type { DeltaStatus, NewReleaseDelta, ReleaseDelta } from './release-types.ts';

export interface ReleaseDeltaRow<Time, Size> {
  hardware_model: string;
  version: string;
  base_version: string;
  base_sha256: string;
  status: DeltaStatus;
  patch_sha256: string | null;
  patch_size: Size | null;
  reason: string | null;
  created_at: Time;
}

const columns =
  'hardware_model, version, base_version, base_sha256, status, patch_sha256, patch_size, reason, created_at';

type Placeholder = (position: number) => string;

/** Inserts or replaces the record of one (release, base) pair; a rebuild overwrites it. */
export function upsertDeltaSql(placeholder: Placeholder): string {
  const values = columns
    .split(', ')
    .map((_, index) => placeholder(index + 1))
    .join(', ');
  return `INSERT INTO release_deltas (${columns}) VALUES (${values})
    ON CONFLICT (hardware_model, version, base_version) DO UPDATE SET
      base_sha256 = excluded.base_sha256, status = excluded.status, patch_sha256 = excluded.patch_sha256,
      patch_size = excluded.patch_size, reason = excluded.reason, created_at = excluded.created_at
    RETURNING ${columns}`;
}

export function selectDeltasSql(placeholder: Placeholder): string {
  return `SELECT ${columns} FROM release_deltas WHERE hardware_model = ${placeholder(1)} AND version = ${placeholder(2)}`;
}

export function deltaParams<Time>(
  delta: NewReleaseDelta,
  atMs: number,
  time: (ms: number) => Time,
): unknown[] {
  return [
    delta.hardwareModel,
    delta.version,
    delta.baseVersion,
    delta.baseSha256,
    delta.status,
    delta.patchSha256,
    delta.patchSize,
    delta.reason,
    time(atMs),
  ];
}

export function deltaFromRow<Time, Size>(
  row: ReleaseDeltaRow<Time, Size>,
  timeMs: (value: Time) => number,
): ReleaseDelta {
  return {
    hardwareModel: row.hardware_model,
    version: row.version,
    baseVersion: row.base_version,
    baseSha256: row.base_sha256,
    status: row.status,
    patchSha256: row.patch_sha256,
    patchSize: row.patch_size === null ? null : Number(row.patch_size),
    reason: row.reason,
    createdAt: isoTime(timeMs(row.created_at)),
  };
}

/** Newest base first by semver precedence. */
export function orderDeltas(deltas: ReleaseDelta[]): ReleaseDelta[] {
  return deltas.sort((a, b) => semver.rcompare(a.baseVersion, b.baseVersion));
}
