/**
 * TUF target names for firmware, the one place they are made: a full image is
 * `<model>_<version>.img`, a delta `<model>_<baseVersion>_to_<version>.bsdiff`. Semver build
 * metadata's `+` becomes `_` so every name is a flat file name (TargetNameSchema).
 */
import { ValidationError } from '../../infra/errors.ts';
import { TargetNameSchema } from '../../signing/tuf/target-custom.ts';

const part = (value: string): string => value.replaceAll('+', '_');

function checked(name: string): string {
  if (!TargetNameSchema.safeParse(name).success) {
    throw new ValidationError(`${JSON.stringify(name)} is not a valid TUF target name`, { name });
  }
  return name;
}

/** The target name of a release's full image. ValidationError if the model makes it invalid. */
export function imageTargetName(hardwareModel: string, version: string): string {
  return checked(`${hardwareModel}_${part(version)}.img`);
}

/** The target name of the patch from `baseVersion`'s image to `version`'s. */
export function deltaTargetName(hardwareModel: string, baseVersion: string, version: string): string {
  return checked(`${hardwareModel}_${part(baseVersion)}_to_${part(version)}.bsdiff`);
}
