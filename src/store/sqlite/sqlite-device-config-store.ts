/** Device configuration documents on the shared better-sqlite3 handle. */
import type Database from 'better-sqlite3';
import type { ConfigReported, ConfigSchema, ConfigValues } from '../../contracts/config-messages.ts';
import {
  defaultsConflict,
  desiredConflict,
  toConfigDefaults,
  toDeviceConfig,
  type ConfigDefaultsRow,
  type DeviceConfigRow,
} from '../device-config-rows.ts';
import type {
  ConfigDefaults,
  DefaultsScope,
  DeviceConfigRecord,
  DeviceConfigStore,
} from '../device-config-types.ts';
import { runSync } from './sqlite-errors.ts';

export class SqliteDeviceConfigStore implements DeviceConfigStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  #ensure(deviceId: string): void {
    this.#db.prepare('INSERT INTO device_config (device_id) VALUES (?) ON CONFLICT DO NOTHING').run(deviceId);
  }

  #row(deviceId: string): DeviceConfigRow | undefined {
    return this.#db
      .prepare<[string], DeviceConfigRow>('SELECT * FROM device_config WHERE device_id = ?')
      .get(deviceId);
  }

  getDevice(deviceId: string): Promise<DeviceConfigRecord | undefined> {
    return runSync(this.#db, () => {
      const row = this.#row(deviceId);
      return row === undefined ? undefined : toDeviceConfig(row);
    });
  }

  putDesired(
    deviceId: string,
    values: ConfigValues,
    expectedVersion: number | undefined,
    atMs: number,
  ): Promise<number> {
    return runSync(
      this.#db,
      this.#db.transaction(() => {
        this.#ensure(deviceId);
        const current = Number(this.#row(deviceId)?.desired_version ?? 0);
        if (expectedVersion !== undefined && expectedVersion !== current)
          throw desiredConflict(deviceId, expectedVersion, current);
        this.#db
          .prepare(
            'UPDATE device_config SET desired = ?, desired_version = ?, desired_at = ? WHERE device_id = ?',
          )
          .run(JSON.stringify(values), current + 1, atMs, deviceId);
        return current + 1;
      }),
    );
  }

  recordSent(deviceId: string, values: ConfigValues, atLeast: number, atMs: number): Promise<number> {
    return runSync(
      this.#db,
      this.#db.transaction(() => {
        this.#ensure(deviceId);
        const row = this.#db
          .prepare<[string, number, number, string], { sent_version: number }>(
            `UPDATE device_config SET sent = ?, sent_version = max(sent_version, ?) + 1, sent_at = ?
             WHERE device_id = ? RETURNING sent_version`,
          )
          .get(JSON.stringify(values), atLeast, atMs, deviceId);
        return Number(row?.sent_version);
      }),
    );
  }

  putReported(deviceId: string, report: Omit<ConfigReported, 'schema'>, atMs: number): Promise<void> {
    return runSync(
      this.#db,
      this.#db.transaction(() => {
        this.#ensure(deviceId);
        this.#db
          .prepare('UPDATE device_config SET reported = ?, reported_at = ? WHERE device_id = ?')
          .run(JSON.stringify(report), atMs, deviceId);
      }),
    );
  }

  putSchema(deviceId: string, schema: ConfigSchema, atMs: number): Promise<void> {
    return runSync(
      this.#db,
      this.#db.transaction(() => {
        this.#ensure(deviceId);
        this.#db
          .prepare('UPDATE device_config SET config_schema = ?, schema_at = ? WHERE device_id = ?')
          .run(JSON.stringify(schema), atMs, deviceId);
      }),
    );
  }

  listDefaults(): Promise<ConfigDefaults[]> {
    return runSync(this.#db, () =>
      this.#db
        .prepare<[], ConfigDefaultsRow>(
          "SELECT * FROM config_defaults ORDER BY CASE scope WHEN 'fleet' THEN 0 ELSE 1 END, name",
        )
        .all()
        .map(toConfigDefaults),
    );
  }

  getDefaults(scope: DefaultsScope, name: string): Promise<ConfigDefaults | undefined> {
    return runSync(this.#db, () => {
      const row = this.#db
        .prepare<[string, string], ConfigDefaultsRow>(
          'SELECT * FROM config_defaults WHERE scope = ? AND name = ?',
        )
        .get(scope, name);
      return row === undefined ? undefined : toConfigDefaults(row);
    });
  }

  putDefaults(
    doc: { scope: DefaultsScope; name: string; priority: number; values: ConfigValues },
    expectedVersion: number | undefined,
    atMs: number,
  ): Promise<ConfigDefaults> {
    return runSync(
      this.#db,
      this.#db.transaction(() => {
        const current = this.#db
          .prepare<[string, string], { version: number }>(
            'SELECT version FROM config_defaults WHERE scope = ? AND name = ?',
          )
          .get(doc.scope, doc.name);
        const version = Number(current?.version ?? 0);
        if (expectedVersion !== undefined && expectedVersion !== version)
          throw defaultsConflict(doc.scope, doc.name, expectedVersion, version);
        const row = this.#db
          .prepare<[string, string, number, string, number, number], ConfigDefaultsRow>(
            `INSERT INTO config_defaults (scope, name, priority, doc, version, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (scope, name) DO UPDATE SET priority = excluded.priority, doc = excluded.doc,
               version = excluded.version, updated_at = excluded.updated_at
             RETURNING *`,
          )
          .get(doc.scope, doc.name, doc.priority, JSON.stringify(doc.values), version + 1, atMs);
        if (row === undefined) throw new Error('config_defaults upsert returned no row');
        return toConfigDefaults(row);
      }),
    );
  }

  deleteDefaults(scope: DefaultsScope, name: string): Promise<boolean> {
    return runSync(
      this.#db,
      () =>
        this.#db.prepare('DELETE FROM config_defaults WHERE scope = ? AND name = ?').run(scope, name)
          .changes > 0,
    );
  }
}
