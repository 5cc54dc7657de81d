/**
 * What the device accepts, decided from verified TUF target custom fields BEFORE any download
 * (TUF 4.4 leaves `custom` to the application). Pure: no I/O.
 *
 * The target custom shape (a union by `kind`; an image without `kind` is an image) is the one
 * schema of signing/tuf/target-custom.ts, shared with the server that signs it.
 */
import semver from 'semver';
import {
  DeltaTargetCustomSchema as deltaCustomSchema,
  TargetCustomSchema as targetCustomSchema,
  type DeltaTargetCustom,
  type ImageTargetCustom,
} from '../../signing/tuf/target-custom.ts';
import { UpdateRefusedError } from './errors.ts';

export type ImageCustom = ImageTargetCustom;
export type DeltaCustom = DeltaTargetCustom;

/** A verified TUF target reduced to what the flow needs. */
export interface SignedFile {
  name: string;
  sha256: string;
  length: number;
}

export interface DeviceFacts {
  hardware: { model: string; revision: string };
  /** Version of the booted image. */
  installedVersion: string;
  /** Anti-rollback floor; undefined when none has been committed. */
  floorVersion?: string;
}

export function parseImageCustom(custom: unknown): ImageCustom {
  const parsed = targetCustomSchema.safeParse(custom);
  if (!parsed.success || parsed.data.kind === 'delta')
    throw new UpdateRefusedError('metadata_invalid', 'target custom fields are not an image description');
  if (semver.valid(parsed.data.version) === null)
    throw new UpdateRefusedError('metadata_invalid', `target version ${parsed.data.version} is not semver`);
  return parsed.data;
}

/** A release lists the revisions it fits; an empty list means every revision of the model. */
function fitsRevision(revisions: readonly string[], revision: string): boolean {
  return revisions.length === 0 || revisions.includes(revision);
}

/** Throws UpdateRefusedError with the contract reason when the device must not install `image`. */
export function checkImagePolicy(image: ImageCustom, device: DeviceFacts): void {
  const { model, revision } = device.hardware;
  if (image.hardware.model !== model || !fitsRevision(image.hardware.revisions, revision))
    throw new UpdateRefusedError(
      'wrong_hardware',
      `target is for ${image.hardware.model}, not ${model}/${revision}`,
    );
  if (device.floorVersion !== undefined && semver.lt(image.version, device.floorVersion))
    throw new UpdateRefusedError(
      'below_security_floor',
      `version ${image.version} is below the security floor ${device.floorVersion}`,
    );
  const installed = semver.valid(device.installedVersion);
  if (installed !== null && !semver.gt(image.version, installed) && image.allowDowngrade !== true)
    throw new UpdateRefusedError(
      'downgrade_refused',
      `version ${image.version} is not above the installed ${installed}`,
    );
}

/**
 * The delta to use, if any: signed for the same image (name, sha256, length), the same hardware,
 * and made from exactly the booted image.
 */
export function pickDelta(
  candidates: readonly { file: SignedFile; custom: unknown }[],
  image: SignedFile,
  installedSha256: string | undefined,
  device: DeviceFacts,
): SignedFile | undefined {
  if (installedSha256 === undefined) return undefined;
  for (const { file, custom } of candidates) {
    const parsed = deltaCustomSchema.safeParse(custom);
    if (!parsed.success) continue;
    const delta = parsed.data;
    if (
      delta.base.sha256 === installedSha256 &&
      delta.target.name === image.name &&
      delta.target.sha256 === image.sha256 &&
      delta.target.length === image.length &&
      delta.hardware.model === device.hardware.model &&
      fitsRevision(delta.hardware.revisions, device.hardware.revision)
    )
      return file;
  }
  return undefined;
}

/** The floor after committing `image`: raised to its minVersion, never lowered. */
export function raisedFloor(
  current: string | undefined,
  image: { minVersion?: string | undefined },
): string | undefined {
  const min = image.minVersion !== undefined ? semver.valid(image.minVersion) : null;
  if (min === null) return current;
  return current === undefined || semver.gt(min, current) ? min : current;
}
