/**
 * What differs between the SQL dialects a fleet query compiles to. Every value is bound through
 * `bind`; a dialect only decides the shape of the SQL around the placeholders.
 */

export type SqlValue = string | number;

/** Adds a value to the parameter list and returns its placeholder (`?` or `$n`). */
export type Bind = (value: SqlValue) => string;

export interface QueryDialect {
  /** A point in time (ms since the epoch) as the dialect's time columns hold it. */
  time(ms: number, bind: Bind): string;
  /** An expression whose byte-wise text order is the semver order of a version column (semver.ts). */
  versionKey(column: string): string;
  /** `bound` is the bound version key (semver.ts) compared against versionKey(). */
  versionValue(key: string, bind: Bind): string;
  /** True when the device has tag `key`. */
  tagExists(key: string, bind: Bind): string;
  /** True when the device has tag `key` with one of `values` (never NULL). */
  tagIn(key: string, values: readonly string[], bind: Bind): string;
}
