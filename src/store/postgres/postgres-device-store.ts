/**
 * The scale-out registry store on PostgreSQL (pg.Pool). Tables live in the configured schema;
 * several Flotilla replicas may share it. Connection failures surface as UnavailableError.
 */
import type pg from 'pg';
import type { Device, FleetSummary } from '../../contracts/device.ts';
import { NotFoundError, UnavailableError } from '../../infra/errors.ts';
import { toPage } from '../cursor.ts';
import { buildListQuery, type ListDialect } from '../list-query.ts';
import { deviceConflict, deviceFromRow, type RowDecoders } from '../row-mapping.ts';
import type {
  DeviceFilter,
  DeviceStore,
  NewDevice,
  Page,
  PageRequest,
  PresenceUpdate,
  ReportedState,
} from '../types.ts';
import { migratePostgres } from './migrations.ts';
import { createPgPool, toStoreError, uniqueViolation, type PgTarget } from './pg-pool.ts';
import * as sql from './postgres-statements.ts';
import type { PgDeviceRow } from './postgres-statements.ts';

const decoders: RowDecoders<Date, Record<string, string>> = {
  timeMs: (value) => value.getTime(),
  tags: (value) => value,
};

const toDevice = (row: PgDeviceRow): Device => deviceFromRow(row, decoders);

const listDialect: ListDialect = {
  placeholder: (position) => `$${position}`,
  // One containment test covers every tag and can use the GIN index on tags.
  tagConditions: (tags, bind) => [`tags @> ${bind(JSON.stringify(tags))}::jsonb`],
};

export interface PostgresStoreOptions {
  /** e.g. postgres://user@127.0.0.1:5432/flotilla */
  url: string;
  /** Schema holding Flotilla's tables; created if missing. */
  schema: string;
}

/** Connects, creates the schema if needed, migrates it and returns the store. */
export async function openPostgresDeviceStore(options: PostgresStoreOptions): Promise<DeviceStore> {
  const target = createPgPool(options.url, options.schema);
  try {
    await migratePostgres(target.pool, options.schema);
  } catch (error) {
    await target.pool.end();
    throw toStoreError(error, target);
  }
  return new PostgresDeviceStore(target);
}

class PostgresDeviceStore implements DeviceStore {
  readonly #target: PgTarget;
  #closed = false;

  constructor(target: PgTarget) {
    this.#target = target;
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

  async listDevices(filter: DeviceFilter, page: PageRequest): Promise<Page<Device>> {
    const query = buildListQuery(filter, page, listDialect);
    const result = await this.#query<PgDeviceRow>(query.sql, query.params);
    return toPage(result.rows, page.limit, toDevice);
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
    this.#checkOpen();
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

  async markAllOffline(atMs: number): Promise<number> {
    return (await this.#query(sql.updateAllOffline, [new Date(atMs)])).rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#target.pool.end();
  }

  #checkOpen(): void {
    if (this.#closed) throw new UnavailableError('the PostgreSQL device store is closed');
  }

  async #query<R extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    this.#checkOpen();
    try {
      return await this.#target.pool.query<R>(text, params);
    } catch (error) {
      throw toStoreError(error, this.#target);
    }
  }
}

function firstRow<R extends pg.QueryResultRow>(result: pg.QueryResult<R>): R {
  const row = result.rows[0];
  if (row === undefined) throw new Error('statement returned no row');
  return row;
}
