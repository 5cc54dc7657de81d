/** TUF repository writer for Flotilla update metadata (The Update Framework 1.0). */
export { addTargets } from './targets.ts';
export type { PublishedVersions } from './targets.ts';
export { publishSnapshot, refreshTimestamp } from './online-roles.ts';
export { createRepository, openRepository, currentRoot, DEFAULT_LIFETIMES_MS } from './repository.ts';
export type {
  CreateRepositoryOptions,
  RepositoryDeps,
  RoleLifetimesMs,
  TufRepository,
} from './repository.ts';
export { rotateRoot } from './root-rotation.ts';
export type { RotateRootOptions } from './root-rotation.ts';
export { ed25519Signer, tufKeyId } from './signer.ts';
export type { Signer } from './signer.ts';
export type { TopLevelRole } from './sign.ts';
export {
  DeltaTargetCustomSchema,
  ImageTargetCustomSchema,
  parseTargetCustom,
  TargetCustomSchema,
  TargetNameSchema,
} from './target-custom.ts';
export type { DeltaTargetCustom, ImageTargetCustom, TargetCustom, TargetInput } from './target-custom.ts';
export { buildTargets } from './targets.ts';
export { canonicalSignedBytes, publishSignedTargets } from './offline-targets.ts';
export type { DetachedSignature } from './offline-targets.ts';
