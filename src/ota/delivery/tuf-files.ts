/**
 * What the device HTTPS API serves under `/device/v1/tuf/`: the repository's metadata files by a
 * strict name (TUF 5.2-5.6 with consistent snapshots) and targets as `targets/<sha256>.<name>`.
 * Pure: file names in, decisions out.
 */
import { TargetNameSchema } from '../../signing/tuf/target-custom.ts';

const METADATA_FILE = /^(?:root\.json|timestamp\.json|[1-9][0-9]{0,9}\.(?:root|targets|snapshot)\.json)$/;

/** The metadata file name, or undefined when it is not one the repository can hold. */
export function metadataFile(name: string): { name: string; cacheControl: string } | undefined {
  if (!METADATA_FILE.test(name)) return undefined;
  // Unversioned files change with every publication; versioned ones never change (TUF 5.5.3).
  const immutable = /^[1-9]/.test(name);
  return { name, cacheControl: immutable ? 'public, max-age=31536000, immutable' : 'no-cache' };
}

/** `<sha256>.<name>` split, or undefined when malformed (TUF 5.7.3 consistent target names). */
export function targetFile(file: string): { sha256: string; name: string } | undefined {
  const match = /^([0-9a-f]{64})\.(.+)$/.exec(file);
  if (!match?.[1] || !match[2] || !TargetNameSchema.safeParse(match[2]).success) return undefined;
  return { sha256: match[1], name: match[2] };
}
