/**
 * Which base versions a new release needs a delta patch from. Pure: the caller reads the
 * installed versions and the releases from the stores.
 */
import semver from 'semver';

export interface DeltaCandidate {
  version: string;
  sha256: string;
}

export interface DeltaSelectionInput {
  /** The release the patches produce. */
  target: DeltaCandidate;
  /** Firmware versions devices of the model report, with device counts. */
  installed: ReadonlyMap<string, number>;
  /** The model's releases (only those can be a patch's base: their image is stored). */
  releases: readonly DeltaCandidate[];
  /** Only these bases (an operator's rebuild request); default: every installed version. */
  requested?: readonly string[];
}

/**
 * Bases that need a patch: versions installed on at least one device (or requested), lower than
 * the target, with a released image whose bytes differ from the target's. Newest first.
 */
export function selectDeltaBases(input: DeltaSelectionInput): DeltaCandidate[] {
  const wanted = input.requested ?? [...input.installed].filter(([, n]) => n > 0).map(([v]) => v);
  const byVersion = new Map(input.releases.map((release) => [release.version, release]));
  const bases: DeltaCandidate[] = [];
  for (const version of new Set(wanted)) {
    const base = byVersion.get(version);
    if (base === undefined || semver.valid(version) === null) continue;
    if (!semver.lt(version, input.target.version) || base.sha256 === input.target.sha256) continue;
    bases.push(base);
  }
  return bases.sort((a, b) => semver.rcompare(a.version, b.version));
}

/** A patch at least this share of the full image is not worth downloading and applying. */
export const MAX_DELTA_RATIO = 0.9;

/** Whether a patch of `patchBytes` is worth publishing next to an image of `imageBytes`. */
export function deltaWorthIt(patchBytes: number, imageBytes: number): boolean {
  return patchBytes < MAX_DELTA_RATIO * imageBytes;
}
