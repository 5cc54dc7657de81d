/** Device configuration documents on the shared pg pool. */
import type pg from 'pg';
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
import { firstRow, type PgSession } from './pg-session.ts';

const ensure = (client: pg.PoolClient, deviceId: string) =>
  client.query('INSERT INTO device_config (device_id) VALUES ($1) ON CONFLICT DO NOTHING', [deviceId]);

export class PostgresDeviceConfigStore implements DeviceConfigStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async getDevice(deviceId: string): Promise<DeviceConfigRecord | undefined> {
    const result = await this.#session.query<DeviceConfigRow>(
      'SELECT * FROM device_config WHERE device_id = $1',
      [deviceId],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toDeviceConfig(row);
  }

  putDesired(
    deviceId: string,
    values: ConfigValues,
    expectedVersion: number | undefined,
    atMs: number,
  ): Promise<number> {
    return this.#session.transaction(async (client) => {
      await ensure(client, deviceId);
      const current = Number(
        firstRow(
          await client.query<{ desired_version: string }>(
            'SELECT desired_version FROM device_config WHERE device_id = $1 FOR UPDATE',
            [deviceId],
          ),
        ).desired_version,
      );
      if (expectedVersion !== undefined && expectedVersion !== current)
        throw desiredConflict(deviceId, expectedVersion, current);
      await client.query(
        'UPDATE device_config SET desired = $2, desired_version = $3, desired_at = $4 WHERE device_id = $1',
        [deviceId, JSON.stringify(values), current + 1, atMs],
      );
      return current + 1;
    });
  }

  recordSent(deviceId: string, values: ConfigValues, atLeast: number, atMs: number): Promise<number> {
    return this.#session.transaction(async (client) => {
      await ensure(client, deviceId);
      const row = firstRow(
        await client.query<{ sent_version: string }>(
          `UPDATE device_config SET sent = $2, sent_version = greatest(sent_version, $3) + 1, sent_at = $4
           WHERE device_id = $1 RETURNING sent_version`,
          [deviceId, JSON.stringify(values), atLeast, atMs],
        ),
      );
      return Number(row.sent_version);
    });
  }

  async putReported(deviceId: string, report: Omit<ConfigReported, 'schema'>, atMs: number): Promise<void> {
    await this.#session.query(
      `INSERT INTO device_config (device_id, reported, reported_at) VALUES ($1, $2, $3)
       ON CONFLICT (device_id) DO UPDATE SET reported = excluded.reported, reported_at = excluded.reported_at`,
      [deviceId, JSON.stringify(report), atMs],
    );
  }

  async putSchema(deviceId: string, schema: ConfigSchema, atMs: number): Promise<void> {
    await this.#session.query(
      `INSERT INTO device_config (device_id, config_schema, schema_at) VALUES ($1, $2, $3)
       ON CONFLICT (device_id) DO UPDATE SET config_schema = excluded.config_schema, schema_at = excluded.schema_at`,
      [deviceId, JSON.stringify(schema), atMs],
    );
  }

  async listDefaults(): Promise<ConfigDefaults[]> {
    const result = await this.#session.query<ConfigDefaultsRow>(
      `SELECT * FROM config_defaults ORDER BY CASE scope WHEN 'fleet' THEN 0 ELSE 1 END, name COLLATE "C"`,
      [],
    );
    return result.rows.map(toConfigDefaults);
  }

  async getDefaults(scope: DefaultsScope, name: string): Promise<ConfigDefaults | undefined> {
    const result = await this.#session.query<ConfigDefaultsRow>(
      'SELECT * FROM config_defaults WHERE scope = $1 AND name = $2',
      [scope, name],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toConfigDefaults(row);
  }

  putDefaults(
    doc: { scope: DefaultsScope; name: string; priority: number; values: ConfigValues },
    expectedVersion: number | undefined,
    atMs: number,
  ): Promise<ConfigDefaults> {
    return this.#session.transaction(async (client) => {
      // Serialises writers of one document, including the first insert (no row to lock yet).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `flotilla.config.${doc.scope}.${doc.name}`,
      ]);
      const current = await client.query<{ version: string }>(
        'SELECT version FROM config_defaults WHERE scope = $1 AND name = $2',
        [doc.scope, doc.name],
      );
      const version = Number(current.rows[0]?.version ?? 0);
      if (expectedVersion !== undefined && expectedVersion !== version)
        throw defaultsConflict(doc.scope, doc.name, expectedVersion, version);
      const row = firstRow(
        await client.query<ConfigDefaultsRow>(
          `INSERT INTO config_defaults (scope, name, priority, doc, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (scope, name) DO UPDATE SET priority = excluded.priority, doc = excluded.doc,
             version = excluded.version, updated_at = excluded.updated_at
           RETURNING *`,
          [doc.scope, doc.name, doc.priority, JSON.stringify(doc.values), version + 1, atMs],
        ),
      );
      return toConfigDefaults(row);
    });
  }

  async deleteDefaults(scope: DefaultsScope, name: string): Promise<boolean> {
    const result = await this.#session.query('DELETE FROM config_defaults WHERE scope = $1 AND name = $2', [
      scope,
      name,
    ]);
    return (result.rowCount ?? 0) > 0;
  }
}
