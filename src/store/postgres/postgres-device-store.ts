/**
 * The scale-out registry store on PostgreSQL (pg.Pool). Tables live in the configured schema;
 * several Flotilla replicas may share it. Connection failures surface as UnavailableError.
 */
import type pg from 'pg';
import type { Device, FleetSummary } from '../../contracts/device.ts';
import { NotFoundError } from '../../infra/errors.ts';
import { toPage } from '../cursor.ts';
import { toSortedPage } from '../device-sort.ts';
import { idBatches } from '../id-batches.ts';
import { buildSelectionQuery, type SelectionDialect } from '../selection-query.ts';
import { postgresQueryDialect } from '../../fleet-query/sql/postgres-dialect.ts';
import { buildCountQuery, buildListQuery, type ListDialect } from '../list-query.ts';
import { deviceConflict } from '../row-mapping.ts';
import type {
  DeviceFilter,
  DeviceSelection,
  DeviceStore,
  NewDevice,
  OperatorTagChange,
  Page,
  DevicePageRequest,
  PageRequest,
  PresenceUpdate,
  ReportedState,
} from '../types.ts';
import { uniqueViolation } from './pg-pool.ts';
import { firstRow, type PgSession } from './pg-session.ts';
import * as sql from './postgres-statements.ts';
import type { PgDeviceRow } from './postgres-statements.ts';

const toDevice = sql.toPgDevice;

const listDialect: ListDialect = {
  // "C": byte order, as SQLite compares, whatever the database locale (indexes of migration 21).
  sortExpression: (column, kind) => (kind === 'text' ? `${column} COLLATE "C"` : column),
  sortValue: (value, kind, bind) =>
    kind === 'time' ? `${bind(new Date(value).toISOString())}::timestamptz` : bind(value),
  placeholder: (position) => `$${position}`,
  // One containment test covers every tag and can use the GIN index on tags.
  tagConditions: (tags, bind) => [`tags @> ${bind(JSON.stringify(tags))}::jsonb`],
  query: postgresQueryDialect,
};

const selectionDialect: SelectionDialect = {
  ...listDialect,
  anyOf: (column, values, bind) => `${column} = ANY(${bind(values)}::text[])`,
  from: () => 'devices',
  // ISO text is exact to the ms (a division into to_timestamp() may round).
  changedSince: (ms, bind) => `attributes_changed_at >= ${bind(new Date(ms).toISOString())}::timestamptz`,
};

/** Closing it ends the pool, which a provisioning store may share. */
export class PostgresDeviceStore implements DeviceStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async createDevice(device: NewDevice, nowMs: number): Promise<Device> {
    const params = [
      device.id,
      device.serial,
      device.hardwareModel ?? null,
      device.hardwareRevision ?? null,
      device.firmwareVersion ?? null,
      JSON.stringify(device.tags ?? {}),
      device.region ?? null,
      device.owner ?? null,
      new Date(nowMs),
    ];
    try {
      return toDevice(firstRow(await this.#query<PgDeviceRow>(sql.insertDevice, params)));
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === undefined) throw error;
      throw deviceConflict(constraint === 'devices_pkey' ? 'id' : 'serial', device);
    }
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = (await this.#query<PgDeviceRow>(sql.selectDevice, [id])).rows[0];
    return row === undefined ? undefined : toDevice(row);
  }

  async listDevices(filter: DeviceFilter, page: DevicePageRequest): Promise<Page<Device>> {
    const query = buildListQuery(filter, page, listDialect);
    const result = await this.#query<PgDeviceRow>(query.sql, query.params);
    if (page.sort !== undefined && page.sort !== 'id')
      return toSortedPage(result.rows.map(toDevice), page.limit, page.sort);
    return toPage(result.rows, page.limit, toDevice);
  }

  async listDevicesMatching(selection: DeviceSelection, page: PageRequest): Promise<Page<Device>> {
    const query = buildSelectionQuery(selection, page, selectionDialect);
    const result = await this.#query<PgDeviceRow>(query.sql, query.params);
    return toPage(result.rows, page.limit, toDevice);
  }

  async countDevices(filter: DeviceFilter): Promise<number> {
    const query = buildCountQuery(filter, listDialect);
    const result = await this.#query<{ count: string }>(query.sql, query.params);
    // count(*) is bigint, which pg returns as text.
    return Number(firstRow(result).count);
  }

  async fleetSummary(): Promise<FleetSummary> {
    const { total, online } = firstRow(await this.#query<FleetSummary>(sql.selectSummary, []));
    return { total, online };
  }

  async recordConnected(deviceId: string, serial: string, atMs: number): Promise<Device> {
    try {
      const result = await this.#query<PgDeviceRow>(sql.upsertConnected, [deviceId, serial, new Date(atMs)]);
      return toDevice(firstRow(result));
    } catch (error) {
      // The conflict target is id, so the only unique index that can still object is serial's.
      if (uniqueViolation(error) === undefined) throw error;
      throw deviceConflict('serial', { id: deviceId, serial });
    }
  }

  async recordDisconnected(deviceId: string, atMs: number): Promise<void> {
    await this.#query(sql.updateDisconnected, [deviceId, new Date(atMs)]);
  }

  async recordSeen(updates: PresenceUpdate[]): Promise<void> {
    this.#session.checkOpen();
    if (updates.length === 0) return;
    const ids = updates.map((update) => update.deviceId);
    const times = updates.map((update) => new Date(update.lastSeenAt));
    await this.#query(sql.updateSeen, [ids, times]);
  }

  async applyReportedState(deviceId: string, state: ReportedState, atMs: number): Promise<boolean> {
    // state.serial is deliberately unused: identity comes from the client certificate.
    const params = [
      deviceId,
      state.seq,
      state.firmwareVersion,
      state.hardwareModel,
      state.hardwareRevision,
      state.region ?? null,
      state.tags === undefined ? null : JSON.stringify(state.tags),
      new Date(atMs),
    ];
    const outcome = firstRow(
      await this.#query<{ applied: boolean; known: boolean }>(sql.updateReported, params),
    );
    if (!outcome.known) throw new NotFoundError(`device ${deviceId} not found`, { deviceId });
    return outcome.applied;
  }

  async updateOperatorTags(
    deviceIds: readonly string[],
    change: OperatorTagChange,
    atMs: number,
  ): Promise<number> {
    let changed = 0;
    for (const ids of idBatches(deviceIds)) {
      const result = await this.#query(sql.updateOperatorTags, [
        ids,
        JSON.stringify(change.set),
        [...change.remove],
        new Date(atMs),
      ]);
      changed += result.rowCount ?? 0;
    }
    return changed;
  }

  async markAllOffline(atMs: number): Promise<number> {
    return (await this.#query(sql.updateAllOffline, [new Date(atMs)])).rowCount ?? 0;
  }

  close(): Promise<void> {
    return this.#session.close();
  }

  #query<R extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#session.query<R>(text, params);
  }

  async installedVersions(hardwareModel: string): Promise<Map<string, number>> {
    const result = await this.#query<{ version: string; devices: number }>(INSTALLED_VERSIONS_SQL, [
      hardwareModel,
    ]);
    return new Map(result.rows.map((row) => [row.version, row.devices]));
  }
}

/** Served by devices_hardware_model_idx; few distinct versions per model. */
const INSTALLED_VERSIONS_SQL = `SELECT firmware_version AS version, count(*)::int AS devices FROM devices
  WHERE hardware_model = $1 AND firmware_version IS NOT NULL GROUP BY firmware_version`;
