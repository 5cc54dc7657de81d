/**
 * The release store: firmware releases (an artifact, its version and the hardware it is for).
 * Implemented in sqlite/ and postgres/ next to the other stores and checked by one contract suite
 * (test/store/release-store.contract.ts).
 */

export interface NewRelease {
  /** Semantic version (semver 2.0), e.g. `2.4.1` or `2.5.0-rc.1`. */
  version: string;
  hardwareModel: string;
  /** Compatible hardware revisions; empty = every revision of the model. */
  hardwareRevisions: string[];
  /** Content address of the image in the artifact store. */
  sha256: string;
  /** bytes */
  size: number;
  /** Security-relevant release: devices below `minVersion` must update (anti-rollback floor). */
  security: boolean;
  /** Lowest version allowed to run once this release is out (semver), when `security` is set. */
  minVersion: string | null;
  /** Devices install it without waiting for a rollout (still subject to hold gates later). */
  mandatory: boolean;
  notes: string;
  createdBy: string;
}

export interface Release extends Omit<NewRelease, 'createdBy'> {
  /** `<hardwareModel>@<version>` */
  id: string;
  createdAt: string;
  createdBy: string;
}

export interface ReleaseFilter {
  hardwareModel?: string;
  /** Only releases compatible with this revision (or with every revision). */
  hardwareRevision?: string;
}

/** How building one delta patch ended. */
export type DeltaStatus = 'ready' | 'skipped' | 'failed';

/** A BSDIFF40 patch from an older release's image (`baseVersion`) to a release's image. */
export interface ReleaseDelta {
  hardwareModel: string;
  /** The release the patch produces. */
  version: string;
  baseVersion: string;
  baseSha256: string;
  status: DeltaStatus;
  /** Present when `ready`: the patch in the artifact store. */
  patchSha256: string | null;
  /** bytes; present when built (also for `skipped`, which records why). */
  patchSize: number | null;
  /** Why it was skipped or failed. */
  reason: string | null;
  createdAt: string;
}

export type NewReleaseDelta = Omit<ReleaseDelta, 'createdAt'>;

export interface ReleaseStore {
  /** ConflictError when the model already has this version (versions are immutable once published). */
  createRelease(release: NewRelease, atMs: number): Promise<Release>;
  getRelease(hardwareModel: string, version: string): Promise<Release | undefined>;
  /** Newest first by semver precedence (not by time). */
  listReleases(filter: ReleaseFilter): Promise<Release[]>;
  /** Records a delta build, replacing an earlier record for the same base. NotFoundError without the release. */
  recordDelta(delta: NewReleaseDelta, atMs: number): Promise<ReleaseDelta>;
  /** A release's deltas, newest base version first. */
  listDeltas(hardwareModel: string, version: string): Promise<ReleaseDelta[]>;
}
