/** Saved fleet queries on the shared better-sqlite3 handle. */
import type Database from 'better-sqlite3';
import type { DeviceGroup, NewGroup } from '../../contracts/device-group.ts';
import { isoTime } from '../../infra/clock.ts';
import { ConflictError } from '../../infra/errors.ts';
import type { GroupStore } from '../group-types.ts';
import { runSync } from './sqlite-errors.ts';

interface GroupRow {
  name: string;
  query: string;
  created_at: number;
}

const toGroup = (row: GroupRow): DeviceGroup => ({
  name: row.name,
  query: row.query,
  createdAt: isoTime(row.created_at),
});

export class SqliteGroupStore implements GroupStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  createGroup(group: NewGroup, nowMs: number): Promise<DeviceGroup> {
    return runSync(this.#db, () => {
      const row = this.#db
        .prepare<[string, string, number, number], GroupRow>(
          `INSERT INTO device_groups (name, query, created_at, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO NOTHING RETURNING name, query, created_at`,
        )
        .get(group.name, group.query, nowMs, nowMs);
      if (row === undefined)
        throw new ConflictError(`group ${group.name} already exists`, { name: group.name });
      return toGroup(row);
    });
  }

  getGroup(name: string): Promise<DeviceGroup | undefined> {
    return runSync(this.#db, () => {
      const row = this.#db
        .prepare<[string], GroupRow>('SELECT name, query, created_at FROM device_groups WHERE name = ?')
        .get(name);
      return row === undefined ? undefined : toGroup(row);
    });
  }

  listGroups(): Promise<DeviceGroup[]> {
    return runSync(this.#db, () =>
      this.#db
        .prepare<[], GroupRow>('SELECT name, query, created_at FROM device_groups ORDER BY name')
        .all()
        .map(toGroup),
    );
  }

  deleteGroup(name: string): Promise<boolean> {
    return runSync(
      this.#db,
      () => this.#db.prepare('DELETE FROM device_groups WHERE name = ?').run(name).changes > 0,
    );
  }
}
