/**
 * Semantic versions (semver.org 2.0.0) and their sort key: a string whose plain byte order is
 * version precedence (§11), so SQL can compare versions with `<` on text. The PostgreSQL
 * function `flotilla_version_key` (migration 11) computes the same key; test/fleet-query checks
 * that the two agree.
 *
 * Key layout: each numeric part is its digit count as two digits, then the digits (so 9 < 10);
 * major, minor, patch in order; then `~` for a release or `-` and the pre-release identifiers
 * for a pre-release (`-` < `~`, so 2.4.0-rc.1 < 2.4.0). A numeric identifier is `0` plus the
 * numeric encoding, an alphanumeric one is `1` plus its text (numeric < alphanumeric, §11.4.3);
 * identifiers are joined by `!`, which sorts below every identifier character, so a shorter
 * list of otherwise equal identifiers comes first (§11.4.4). Build metadata is ignored (§10).
 */

export interface SemVer {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
}

// Numbers are limited to 99 digits so their length fits the two-digit prefix.
const numeric = '(0|[1-9][0-9]{0,98})';
const identifier = '(?:0|[1-9][0-9]{0,98}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)';
/** The PostgreSQL function (migration 11) spells out the same pattern; a test checks they agree. */
const semverPattern =
  `^${numeric}[.]${numeric}[.]${numeric}` +
  `(?:-(${identifier}(?:[.]${identifier})*))?(?:[+][0-9A-Za-z-]+(?:[.][0-9A-Za-z-]+)*)?$`;
const semverRegExp = new RegExp(semverPattern);

export function parseVersion(text: string): SemVer | undefined {
  const match = semverRegExp.exec(text);
  if (match === null) return undefined;
  const [, major = '', minor = '', patch = '', prerelease] = match;
  return { major, minor, patch, prerelease: prerelease === undefined ? [] : prerelease.split('.') };
}

function numberKey(digits: string): string {
  return `${String(digits.length).padStart(2, '0')}${digits}`;
}

export function versionKey(version: SemVer): string {
  const core = numberKey(version.major) + numberKey(version.minor) + numberKey(version.patch);
  if (version.prerelease.length === 0) return `${core}~`;
  const ids = version.prerelease.map((id) => (/^[0-9]+$/.test(id) ? `0${numberKey(id)}` : `1${id}`));
  return `${core}-${ids.join('!')}`;
}

/** The sort key of a version string, or undefined when it is not a semantic version. */
export function versionKeyOf(text: string): string | undefined {
  const version = parseVersion(text);
  return version === undefined ? undefined : versionKey(version);
}
