/**
 * Forward-only schema migrations, shared by both stores: which numbered migrations a database
 * still needs, and refusing a database that a newer Flotilla has already migrated further.
 */
import { UnavailableError } from '../infra/errors.ts';

export interface Migration {
  /** 1, 2, 3, … with no gaps; never renumber or edit one that has shipped. */
  version: number;
  name: string;
  sql: string;
}

/**
 * The migrations to apply, in order, given the highest version the database has recorded
 * (0 when none). UnavailableError when the database is ahead of this code.
 */
export function pendingMigrations(known: readonly Migration[], appliedVersion: number): Migration[] {
  known.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      // A programming error, not a database state: fail loudly before touching anything.
      throw new Error(`migration ${migration.name} has version ${migration.version}, expected ${index + 1}`);
    }
  });
  if (appliedVersion > known.length) {
    throw new UnavailableError(
      `the database was written by a newer Flotilla (schema version ${appliedVersion}, this version ` +
        `knows up to ${known.length}); upgrade Flotilla or point it at another database`,
      { databaseVersion: appliedVersion, knownVersion: known.length },
    );
  }
  return known.slice(appliedVersion);
}

/** A version number held for a migration written on another branch; applying it changes nothing. */
export function reservedMigration(version: number): Migration {
  return { version, name: `reserved_${version}`, sql: 'SELECT 1' };
}
