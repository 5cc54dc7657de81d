/** Opens (creating if needed) the SQLite file with the settings Flotilla relies on. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UnavailableError } from '../../infra/errors.ts';

/** How long a statement waits for another process's write lock before failing. */
const busyTimeoutMs = 5000;

export function openSqliteDatabase(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    // WAL lets readers proceed during a write; NORMAL sync is durable across application
    // crashes and only risks the last commits on power loss, which heartbeats tolerate.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db?.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new UnavailableError(`cannot open SQLite database ${file}: ${reason}`, { file });
  }
}
