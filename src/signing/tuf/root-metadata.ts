import { Metadata, Root } from '@tufjs/models';
import type { Key } from '@tufjs/models';
import { ValidationError } from '../../infra/errors.ts';
import type { TopLevelRole } from './sign.ts';

/** The TUF specification version written into every `signed` object (TUF 4.2 spec_version). */
export const SPEC_VERSION = '1.0.31';

export const TOP_LEVEL_ROLES: readonly TopLevelRole[] = ['root', 'targets', 'snapshot', 'timestamp'];

export type RoleKeys = Record<TopLevelRole, readonly Key[]>;
export type RoleThresholds = Record<TopLevelRole, number>;

/** The keys the root currently assigns to each top-level role (TUF 4.3 "roles"). */
export function keysOf(root: Root): RoleKeys {
  const pick = (role: TopLevelRole): Key[] =>
    (root.roles[role]?.keyIDs ?? []).flatMap((id) => {
      const key = root.keys[id];
      return key ? [key] : [];
    });
  return {
    root: pick('root'),
    targets: pick('targets'),
    snapshot: pick('snapshot'),
    timestamp: pick('timestamp'),
  };
}

export function thresholdsOf(root: Root): RoleThresholds {
  const of = (role: TopLevelRole): number => root.roles[role]?.threshold ?? 1;
  return {
    root: of('root'),
    targets: of('targets'),
    snapshot: of('snapshot'),
    timestamp: of('timestamp'),
  };
}

/**
 * Builds unsigned root metadata (TUF 4.3) with consistent snapshots on, so every versioned
 * file is immutable and clients never mix versions mid-update (TUF 5.5-5.7).
 */
export function buildRoot(options: {
  version: number;
  expires: string;
  keys: RoleKeys;
  thresholds: RoleThresholds;
}): Metadata<Root> {
  const keys: Record<string, unknown> = {};
  const roles: Record<string, { keyids: string[]; threshold: number }> = {};
  for (const role of TOP_LEVEL_ROLES) {
    const roleKeys = options.keys[role];
    const threshold = options.thresholds[role];
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > roleKeys.length) {
      throw new ValidationError(`${role} threshold must be between 1 and its key count`, {
        threshold,
        keys: roleKeys.length,
      });
    }
    for (const key of roleKeys) keys[key.keyID] = key.toJSON();
    roles[role] = { keyids: roleKeys.map((k) => k.keyID), threshold };
  }
  const signed = Root.fromJSON({
    _type: 'root',
    spec_version: SPEC_VERSION,
    version: options.version,
    expires: options.expires,
    consistent_snapshot: true,
    keys,
    roles,
  } as Parameters<typeof Root.fromJSON>[0]);
  return new Metadata(signed);
}
