/** Saved fleet queries on the shared pg pool. */
import type { DeviceGroup, NewGroup } from '../../contracts/device-group.ts';
import { isoTime } from '../../infra/clock.ts';
import { ConflictError } from '../../infra/errors.ts';
import type { GroupStore } from '../group-types.ts';
import type { PgSession } from './pg-session.ts';

interface GroupRow {
  name: string;
  query: string;
  created_at: Date;
}

const toGroup = (row: GroupRow): DeviceGroup => ({
  name: row.name,
  query: row.query,
  createdAt: isoTime(row.created_at.getTime()),
});

export class PostgresGroupStore implements GroupStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async createGroup(group: NewGroup, nowMs: number): Promise<DeviceGroup> {
    const result = await this.#session.query<GroupRow>(
      `INSERT INTO device_groups (name, query, created_at, updated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (name) DO NOTHING RETURNING name, query, created_at`,
      [group.name, group.query, new Date(nowMs)],
    );
    const row = result.rows[0];
    if (row === undefined)
      throw new ConflictError(`group ${group.name} already exists`, { name: group.name });
    return toGroup(row);
  }

  async getGroup(name: string): Promise<DeviceGroup | undefined> {
    const result = await this.#session.query<GroupRow>(
      'SELECT name, query, created_at FROM device_groups WHERE name = $1',
      [name],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toGroup(row);
  }

  async listGroups(): Promise<DeviceGroup[]> {
    const result = await this.#session.query<GroupRow>(
      'SELECT name, query, created_at FROM device_groups ORDER BY name',
      [],
    );
    return result.rows.map(toGroup);
  }

  async deleteGroup(name: string): Promise<boolean> {
    const result = await this.#session.query('DELETE FROM device_groups WHERE name = $1', [name]);
    return (result.rowCount ?? 0) > 0;
  }
}
