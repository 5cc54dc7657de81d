/**
 * The rollout store on the same better-sqlite3 handle as the other stores. Writes of more than one
 * row run in one IMMEDIATE transaction, which takes the file's write lock before the first read.
 */
import type Database from 'better-sqlite3';
import { finalRolloutStatuses, type RolloutState } from '../../ota/rollouts/rollout-state.ts';
import type { TimelineEvent } from '../../ota/rollouts/timeline.ts';
import {
  eventFromRow,
  finalStatusList,
  finishedRollout,
  memberColumns,
  memberFromRow,
  missingRollout,
  rolloutColumns,
  rolloutConflict,
  rolloutFromRow,
  staleRollout,
  type EventRow,
  type MemberRow,
  type RolloutRow,
} from '../rollout-rows.ts';
import { idBatches } from '../id-batches.ts';
import type {
  NewRollout,
  RolloutJoin,
  RolloutMember,
  RolloutRecord,
  RolloutStore,
} from '../rollout-types.ts';
import { runSync } from './sqlite-errors.ts';

const sql = {
  insertRollout: `INSERT INTO rollouts (id, spec, state, status, version, created_by, created_at, updated_at,
    selected_through, rescanned_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING ${rolloutColumns}`,
  selectRollout: `SELECT ${rolloutColumns} FROM rollouts WHERE id = ?`,
  selectActive: `SELECT ${rolloutColumns} FROM rollouts WHERE status NOT IN (${finalStatusList})
    ORDER BY created_at, id`,
  selectNewest: `SELECT ${rolloutColumns} FROM rollouts ORDER BY created_at DESC, id DESC LIMIT ?`,
  /** Which of a batch of devices (one JSON array) are in an active rollout: the overlap rule. */
  activeRolloutsOf: `SELECT m.device_id AS device_id, m.rollout_id AS rollout_id
    FROM rollout_devices m JOIN rollouts r ON r.id = m.rollout_id
    WHERE m.device_id IN (SELECT value FROM json_each(?)) AND r.status NOT IN (${finalStatusList})`,
  selectStatus: 'SELECT status FROM rollouts WHERE id = ?',
  updateSelection: 'UPDATE rollouts SET selected_through = ?, rescanned_at = ? WHERE id = ?',
  insertMember: 'INSERT INTO rollout_devices (rollout_id, device_id, stage_index) VALUES (?, ?, ?)',
  selectMembers: `SELECT ${memberColumns} FROM rollout_devices WHERE rollout_id = ? ORDER BY stage_index, device_id`,
  markStarted: `UPDATE rollout_devices SET deployment_id = ?, started_at = ?, skip_reason = ?
    WHERE rollout_id = ? AND device_id = ?`,
  updateState: `UPDATE rollouts SET state = ?, status = ?, version = version + 1, updated_at = ?
    WHERE id = ? AND version = ? RETURNING ${rolloutColumns}`,
  insertEvent: 'INSERT INTO rollout_events (rollout_id, event) VALUES (?, ?)',
  selectEvents: 'SELECT event FROM rollout_events WHERE rollout_id = ? ORDER BY id',
} as const;

type Statements = { [K in keyof typeof sql]: Database.Statement<unknown[], unknown> };

export class SqliteRolloutStore implements RolloutStore {
  readonly #db: Database.Database;
  readonly #s: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    const entries = Object.entries(sql).map(([key, text]) => [key, db.prepare(text)] as const);
    this.#s = Object.fromEntries(entries) as Statements;
  }

  #write<T>(work: () => T): Promise<T> {
    return runSync(this.#db, () => this.#db.transaction(work).immediate());
  }

  createRollout(rollout: NewRollout, atMs: number): Promise<RolloutRecord> {
    return this.#write(() => {
      const busy = this.#activeRolloutsOf(rollout.devices.map((d) => d.deviceId));
      if (busy.size > 0)
        throw rolloutConflict([...busy].map(([deviceId, id]) => ({ deviceId, rolloutId: id })));
      const row = this.#s.insertRollout.get(
        rollout.id,
        JSON.stringify(rollout.spec),
        JSON.stringify(rollout.state),
        rollout.state.status,
        rollout.createdBy,
        atMs,
        atMs,
        atMs,
        atMs,
      ) as RolloutRow;
      for (const { deviceId, stageIndex } of rollout.devices)
        this.#s.insertMember.run(rollout.id, deviceId, stageIndex);
      this.#s.insertEvent.run(rollout.id, JSON.stringify(rollout.event));
      return rolloutFromRow(row);
    });
  }

  getRollout(id: string): Promise<RolloutRecord | undefined> {
    return runSync(this.#db, () => {
      const row = this.#s.selectRollout.get(id) as RolloutRow | undefined;
      return row && rolloutFromRow(row);
    });
  }

  listActiveRollouts(): Promise<RolloutRecord[]> {
    return runSync(this.#db, () => (this.#s.selectActive.all() as RolloutRow[]).map(rolloutFromRow));
  }

  listRollouts(limit: number): Promise<RolloutRecord[]> {
    return runSync(this.#db, () => (this.#s.selectNewest.all(limit) as RolloutRow[]).map(rolloutFromRow));
  }

  listMembers(rolloutId: string): Promise<RolloutMember[]> {
    return runSync(this.#db, () => (this.#s.selectMembers.all(rolloutId) as MemberRow[]).map(memberFromRow));
  }

  markStarted(
    rolloutId: string,
    deviceIds: readonly string[],
    started: { deploymentId: string | null; skipReason?: string },
    atMs: number,
  ): Promise<void> {
    return this.#write(() => {
      for (const deviceId of deviceIds)
        this.#s.markStarted.run(started.deploymentId, atMs, started.skipReason ?? null, rolloutId, deviceId);
    });
  }

  updateState(
    id: string,
    expectedVersion: number,
    state: RolloutState,
    event: TimelineEvent,
    atMs: number,
  ): Promise<RolloutRecord> {
    return this.#write(() => {
      const row = this.#s.updateState.get(JSON.stringify(state), state.status, atMs, id, expectedVersion) as
        RolloutRow | undefined;
      if (row === undefined) {
        if (this.#s.selectRollout.get(id) === undefined) throw missingRollout(id);
        throw staleRollout(id, expectedVersion);
      }
      this.#s.insertEvent.run(id, JSON.stringify(event));
      return rolloutFromRow(row);
    });
  }

  addMembers(rolloutId: string, join: RolloutJoin): Promise<void> {
    return this.#write(() => {
      const row = this.#s.selectStatus.get(rolloutId) as { status: string } | undefined;
      if (row === undefined) throw missingRollout(rolloutId);
      if ((finalRolloutStatuses as readonly string[]).includes(row.status))
        throw finishedRollout(rolloutId, row.status);
      const busy = this.#activeRolloutsOf(join.devices.map((d) => d.deviceId));
      if (busy.size > 0)
        throw rolloutConflict([...busy].map(([deviceId, id]) => ({ deviceId, rolloutId: id })));
      for (const { deviceId, stageIndex } of join.devices)
        this.#s.insertMember.run(rolloutId, deviceId, stageIndex);
      if (join.event !== null) this.#s.insertEvent.run(rolloutId, JSON.stringify(join.event));
      this.#s.updateSelection.run(join.selectedThroughMs, join.rescannedAtMs, rolloutId);
    });
  }

  activeRolloutsOf(deviceIds: readonly string[]): Promise<Map<string, string>> {
    return runSync(this.#db, () => this.#activeRolloutsOf(deviceIds));
  }

  #activeRolloutsOf(deviceIds: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    for (const batch of idBatches(deviceIds)) {
      const rows = this.#s.activeRolloutsOf.all(JSON.stringify(batch)) as Array<{
        device_id: string;
        rollout_id: string;
      }>;
      for (const row of rows) found.set(row.device_id, row.rollout_id);
    }
    return found;
  }

  listTimeline(rolloutId: string): Promise<TimelineEvent[]> {
    return runSync(this.#db, () => (this.#s.selectEvents.all(rolloutId) as EventRow[]).map(eventFromRow));
  }
}
