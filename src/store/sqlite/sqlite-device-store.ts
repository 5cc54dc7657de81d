/**
 * The embedded registry store on better-sqlite3. Calls are synchronous and fast, so the async
 * interface simply wraps them; multi-statement writes run in one transaction.
 */
import type Database from 'better-sqlite3';
import type { Device, FleetSummary } from '../../contracts/device.ts';
import { NotFoundError } from '../../infra/errors.ts';
import { toPage } from '../cursor.ts';
import { toSortedPage } from '../device-sort.ts';
import { idBatches } from '../id-batches.ts';
import { buildSelectionQuery, type SelectionDialect } from '../selection-query.ts';
import { versionKeyOf } from '../../fleet-query/semver.ts';
import { sqliteQueryDialect, sqliteVersionKeyFunction } from '../../fleet-query/sql/sqlite-dialect.ts';
import { buildCountQuery, buildListQuery, type ListDialect } from '../list-query.ts';
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
import { asConflict, runSync } from './sqlite-errors.ts';
import {
  prepareStatements,
  toSqliteDevice,
  type ReportParams,
  type SqliteDeviceRow,
  type SqliteStatements,
} from './sqlite-statements.ts';

const toDevice = toSqliteDevice;

const listDialect: ListDialect = {
  sortExpression: (column) => column,
  // Times are integer ms; text compares byte-wise (BINARY collation).
  sortValue: (value, _kind, bind) => bind(value),
  placeholder: () => '?',
  // The JSON path is bound too; quoting the key keeps a dotted key (`site.floor`) one member.
  tagConditions: (tags, bind) =>
    Object.entries(tags).map(([key, value]) => `json_extract(tags, ${bind(`$."${key}"`)}) = ${bind(value)}`),
  query: sqliteQueryDialect,
};

const selectionDialect: SelectionDialect = {
  ...listDialect,
  // One JSON array parameter, however long the list (no variable-count limit); the index on the
  // column is probed per value.
  anyOf: (column, values, bind) =>
    `${column} IN (SELECT value FROM json_each(${bind(JSON.stringify(values))}))`,
  // Without statistics SQLite would walk devices_hardware_model_idx (it yields id order) over the
  // whole model; the few devices changed since the watermark are fewer.
  from: (changedSince) => (changedSince ? 'devices INDEXED BY devices_attributes_changed_idx' : 'devices'),
  changedSince: (ms, bind) => `attributes_changed_at >= ${bind(ms)}`,
};

/** Closing it closes the database handle, which a provisioning store may share. */
export class SqliteDeviceStore implements DeviceStore {
  readonly #db: Database.Database;
  readonly #sql: SqliteStatements;
  readonly #seenBatch: Database.Transaction<(updates: PresenceUpdate[]) => void>;
  readonly #report: Database.Transaction<(params: ReportParams) => boolean>;

  constructor(db: Database.Database) {
    this.#db = db;
    // Fleet queries compare firmware by semver through this key (fleet-query/semver.ts). It is
    // not used by any index or view, so the file stays readable by tools that lack the function.
    db.function(sqliteVersionKeyFunction, { deterministic: true }, (version: unknown) =>
      typeof version === 'string' ? (versionKeyOf(version) ?? null) : null,
    );
    const sql = prepareStatements(db);
    this.#sql = sql;
    this.#seenBatch = db.transaction((updates) => {
      for (const update of updates) sql.seen.run({ id: update.deviceId, at: update.lastSeenAt });
    });
    this.#report = db.transaction((params) => {
      if (sql.report.run(params).changes > 0) return true;
      if (sql.exists.get(params.id) === undefined) {
        throw new NotFoundError(`device ${params.id} not found`, { deviceId: params.id });
      }
      return false;
    });
  }

  createDevice(device: NewDevice, nowMs: number): Promise<Device> {
    return this.#run(() => {
      const params = {
        id: device.id,
        serial: device.serial,
        hardwareModel: device.hardwareModel ?? null,
        hardwareRevision: device.hardwareRevision ?? null,
        firmwareVersion: device.firmwareVersion ?? null,
        tags: JSON.stringify(device.tags ?? {}),
        region: device.region ?? null,
        owner: device.owner ?? null,
        createdAt: nowMs,
      };
      try {
        return toDevice(this.#getOne(this.#sql.insert.get(params)));
      } catch (error) {
        throw asConflict(error, device);
      }
    });
  }

  getDevice(id: string): Promise<Device | undefined> {
    return this.#run(() => {
      const row = this.#sql.byId.get(id);
      return row === undefined ? undefined : toDevice(row);
    });
  }

  listDevices(filter: DeviceFilter, page: DevicePageRequest): Promise<Page<Device>> {
    return this.#run(() => {
      const query = buildListQuery(filter, page, listDialect);
      const rows = this.#db.prepare<unknown[], SqliteDeviceRow>(query.sql).all(...query.params);
      if (page.sort !== undefined && page.sort !== 'id')
        return toSortedPage(rows.map(toDevice), page.limit, page.sort);
      return toPage(rows, page.limit, toDevice);
    });
  }

  listDevicesMatching(selection: DeviceSelection, page: PageRequest): Promise<Page<Device>> {
    return this.#run(() => {
      const query = buildSelectionQuery(selection, page, selectionDialect);
      const rows = this.#db.prepare<unknown[], SqliteDeviceRow>(query.sql).all(...query.params);
      return toPage(rows, page.limit, toDevice);
    });
  }

  countDevices(filter: DeviceFilter): Promise<number> {
    return this.#run(() => {
      const query = buildCountQuery(filter, listDialect);
      return this.#getOne(this.#db.prepare<unknown[], { count: number }>(query.sql).get(...query.params))
        .count;
    });
  }

  fleetSummary(): Promise<FleetSummary> {
    return this.#run(() => {
      const { total, online } = this.#getOne(this.#sql.summary.get());
      return { total, online };
    });
  }

  recordConnected(deviceId: string, serial: string, atMs: number): Promise<Device> {
    return this.#run(() => {
      try {
        return toDevice(this.#getOne(this.#sql.connect.get({ id: deviceId, serial, at: atMs })));
      } catch (error) {
        throw asConflict(error, { id: deviceId, serial });
      }
    });
  }

  recordDisconnected(deviceId: string, atMs: number): Promise<void> {
    return this.#run(() => {
      this.#sql.disconnect.run({ id: deviceId, at: atMs });
    });
  }

  recordSeen(updates: PresenceUpdate[]): Promise<void> {
    return this.#run(() => this.#seenBatch(updates));
  }

  applyReportedState(deviceId: string, state: ReportedState, atMs: number): Promise<boolean> {
    // state.serial is deliberately unused: identity comes from the client certificate.
    const params: ReportParams = {
      id: deviceId,
      seq: state.seq,
      firmwareVersion: state.firmwareVersion,
      hardwareModel: state.hardwareModel,
      hardwareRevision: state.hardwareRevision,
      region: state.region ?? null,
      tags: state.tags === undefined ? null : JSON.stringify(state.tags),
      at: atMs,
    };
    return this.#run(() => this.#report(params));
  }

  updateOperatorTags(deviceIds: readonly string[], change: OperatorTagChange, atMs: number): Promise<number> {
    const patch = JSON.stringify(mergePatch(change));
    return this.#run(() =>
      this.#db.transaction(() =>
        idBatches(deviceIds).reduce(
          (changed, ids) =>
            changed + this.#sql.operatorTags.run({ ids: JSON.stringify(ids), patch, at: atMs }).changes,
          0,
        ),
      )(),
    );
  }

  markAllOffline(atMs: number): Promise<number> {
    return this.#run(() => this.#sql.allOffline.run({ at: atMs }).changes);
  }

  close(): Promise<void> {
    // better-sqlite3's close() is a no-op on a closed database, which makes this idempotent.
    this.#db.close();
    return Promise.resolve();
  }

  #run<T>(work: () => T): Promise<T> {
    return runSync(this.#db, work);
  }

  #getOne<T>(row: T | undefined): T {
    if (row === undefined) throw new Error('statement returned no row');
    return row;
  }

  installedVersions(hardwareModel: string): Promise<Map<string, number>> {
    return this.#run(() => {
      const rows = this.#db
        .prepare<[string], { version: string; devices: number }>(INSTALLED_VERSIONS_SQL)
        .all(hardwareModel);
      return new Map(rows.map((row) => [row.version, row.devices]));
    });
  }
}

/** Served by devices_hardware_model_idx; few distinct versions per model. */
const INSTALLED_VERSIONS_SQL = `SELECT firmware_version AS version, count(*) AS devices FROM devices
  WHERE hardware_model = ? AND firmware_version IS NOT NULL GROUP BY firmware_version`;

/** The change as a JSON merge patch (RFC 7396, SQLite's json_patch): null removes a key. */
function mergePatch(change: OperatorTagChange): Record<string, string | null> {
  const patch: Record<string, string | null> = { ...change.set };
  for (const key of change.remove) patch[key] = null;
  return patch;
}
