/**
 * The release decisions both stores share: what a valid new release is, and the order and
 * revision filter of listReleases. Nothing here does I/O.
 */
import semver from 'semver';
import { ConflictError, NotFoundError, ValidationError } from '../infra/errors.ts';
import type { NewRelease, Release, ReleaseFilter } from './release-types.ts';

const sha256Pattern = /^[0-9a-f]{64}$/;

/** `<hardwareModel>@<version>`; a semver version never contains `@`, so the id is unambiguous. */
export function releaseId(hardwareModel: string, version: string): string {
  return `${hardwareModel}@${version}`;
}

/** The ConflictError for a version the model already has (versions are immutable once published). */
export function releaseConflict(release: NewRelease): ConflictError {
  const id = releaseId(release.hardwareModel, release.version);
  return new ConflictError(`release ${id} already exists`, { id });
}

/** The NotFoundError for a release that does not exist. */
export function missingRelease(hardwareModel: string, version: string): NotFoundError {
  const id = releaseId(hardwareModel, version);
  return new NotFoundError(`release ${id} not found`, { id });
}

/** ValidationError naming the first invalid field; nothing is written before this passes. */
export function validateNewRelease(release: NewRelease): void {
  requireSemver('version', release.version);
  if (release.minVersion !== null) requireSemver('minVersion', release.minVersion);
  if (release.hardwareModel === '') invalid('hardwareModel', 'must not be empty', release.hardwareModel);
  if (!sha256Pattern.test(release.sha256)) {
    invalid('sha256', 'must be 64 lower-case hex digits', release.sha256);
  }
  if (!Number.isSafeInteger(release.size) || release.size < 0) {
    invalid('size', 'must be a whole number of bytes >= 0', release.size);
  }
}

/**
 * Only the canonical form semver.valid returns is accepted: `v1.2.3` or `1.2.3+build` would give
 * a second id for a version of the same precedence, which "versions are immutable" forbids.
 */
function requireSemver(field: 'version' | 'minVersion', value: string): void {
  if (semver.valid(value) !== value) invalid(field, 'must be a semantic version such as 2.4.1', value);
}

function invalid(field: string, rule: string, value: unknown): never {
  throw new ValidationError(`release ${field} ${rule}`, { field, value });
}

/** Whether a release installs on `revision`; an empty revisions list means every revision. */
export function matchesRevision(release: Release, revision: string | undefined): boolean {
  if (revision === undefined || release.hardwareRevisions.length === 0) return true;
  return release.hardwareRevisions.includes(revision);
}

/**
 * listReleases' result: the revision filter, then newest first by semver precedence (pre-releases
 * below their release); equal versions of different models by model name, so the order is stable.
 */
export function orderReleases(releases: Release[], filter: ReleaseFilter): Release[] {
  return releases
    .filter((release) => matchesRevision(release, filter.hardwareRevision))
    .sort(
      (a, b) =>
        semver.rcompare(a.version, b.version) ||
        (a.hardwareModel < b.hardwareModel ? -1 : a.hardwareModel > b.hardwareModel ? 1 : 0),
    );
}
