/** How the SQLite store turns its synchronous work and SQLite's failures into the store's contract. */
import Database from 'better-sqlite3';
import { UnavailableError } from '../../infra/errors.ts';
import { deviceConflict } from '../row-mapping.ts';

// Result codes meaning the file cannot be used right now, not that the request was wrong
// (https://sqlite.org/rescode.html); extended codes such as SQLITE_IOERR_WRITE share the prefix.
const unavailableCodes = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|CORRUPT|NOTADB)/;

/**
 * Runs synchronous work as a promise, so a throw becomes a rejection rather than escaping the
 * async interface. UnavailableError once the database is closed or when the file fails.
 */
export function runSync<T>(db: Database.Database, work: () => T): Promise<T> {
  return new Promise((resolve) => {
    if (!db.open) throw new UnavailableError('the SQLite store is closed');
    try {
      resolve(work());
    } catch (error) {
      if (error instanceof Database.SqliteError && unavailableCodes.test(error.code)) {
        throw new UnavailableError(`SQLite database ${db.name} failed: ${error.message}`, {
          code: error.code,
        });
      }
      throw error;
    }
  });
}

/** A unique-index violation on insert as the ConflictError naming the key; other errors unchanged. */
export function asConflict(error: unknown, device: { id: string; serial: string }): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  if (error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return deviceConflict('id', device);
  if (error.code === 'SQLITE_CONSTRAINT_UNIQUE') return deviceConflict('serial', device);
  return error;
}
