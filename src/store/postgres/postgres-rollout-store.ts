/**
 * The rollout store on the same pg.Pool (PgSession) as the other stores. Writes of more than one
 * row run in one transaction; the compare-and-set on `version` decides concurrent state changes.
 */
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
import { firstRow, type PgSession } from './pg-session.ts';

const sql = {
  insertRollout: `INSERT INTO rollouts (id, spec, state, status, version, created_by, created_at, updated_at,
    selected_through, rescanned_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $6, $6, $6) RETURNING ${rolloutColumns}`,
  selectRollout: `SELECT ${rolloutColumns} FROM rollouts WHERE id = $1`,
  selectActive: `SELECT ${rolloutColumns} FROM rollouts WHERE status NOT IN (${finalStatusList})
    ORDER BY created_at, id`,
  selectNewest: `SELECT ${rolloutColumns} FROM rollouts ORDER BY created_at DESC, id DESC LIMIT $1`,
  // Serialises rollout creation and joins, so two overlapping rollouts cannot both pass the check.
  lockCreation: "SELECT pg_advisory_xact_lock(hashtext('flotilla.rollouts.create'))",
  activeRolloutsOf: `SELECT m.device_id, m.rollout_id FROM rollout_devices m JOIN rollouts r ON r.id = m.rollout_id
    WHERE m.device_id = ANY($1::text[]) AND r.status NOT IN (${finalStatusList}) ORDER BY m.device_id`,
  lockStatus: 'SELECT status FROM rollouts WHERE id = $1 FOR UPDATE',
  updateSelection: 'UPDATE rollouts SET selected_through = $1, rescanned_at = $2 WHERE id = $3',
  insertMembers: `INSERT INTO rollout_devices (rollout_id, device_id, stage_index)
    SELECT $1, device_id, stage_index FROM unnest($2::text[], $3::int[]) AS d (device_id, stage_index)`,
  selectMembers: `SELECT ${memberColumns} FROM rollout_devices WHERE rollout_id = $1 ORDER BY stage_index, device_id`,
  markStarted: `UPDATE rollout_devices SET deployment_id = $1, started_at = $2, skip_reason = $3
    WHERE rollout_id = $4 AND device_id = ANY($5::text[])`,
  updateState: `UPDATE rollouts SET state = $1, status = $2, version = version + 1, updated_at = $3
    WHERE id = $4 AND version = $5 RETURNING ${rolloutColumns}`,
  insertEvent: 'INSERT INTO rollout_events (rollout_id, event) VALUES ($1, $2)',
  selectEvents: 'SELECT event FROM rollout_events WHERE rollout_id = $1 ORDER BY id',
} as const;

export class PostgresRolloutStore implements RolloutStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  createRollout(rollout: NewRollout, atMs: number): Promise<RolloutRecord> {
    const deviceIds = rollout.devices.map((d) => d.deviceId);
    return this.#session.transaction(async (client) => {
      await client.query(sql.lockCreation);
      const busy = await client.query<{ device_id: string; rollout_id: string }>(sql.activeRolloutsOf, [
        deviceIds,
      ]);
      if (busy.rows.length > 0)
        throw rolloutConflict(busy.rows.map((r) => ({ deviceId: r.device_id, rolloutId: r.rollout_id })));
      const inserted = await client.query<RolloutRow>(sql.insertRollout, [
        rollout.id,
        JSON.stringify(rollout.spec),
        JSON.stringify(rollout.state),
        rollout.state.status,
        rollout.createdBy,
        atMs,
      ]);
      await client.query(sql.insertMembers, [
        rollout.id,
        deviceIds,
        rollout.devices.map((d) => d.stageIndex),
      ]);
      await client.query(sql.insertEvent, [rollout.id, JSON.stringify(rollout.event)]);
      return rolloutFromRow(firstRow(inserted));
    });
  }

  async getRollout(id: string): Promise<RolloutRecord | undefined> {
    const row = (await this.#session.query<RolloutRow>(sql.selectRollout, [id])).rows[0];
    return row && rolloutFromRow(row);
  }

  async listActiveRollouts(): Promise<RolloutRecord[]> {
    return (await this.#session.query<RolloutRow>(sql.selectActive, [])).rows.map(rolloutFromRow);
  }

  async listRollouts(limit: number): Promise<RolloutRecord[]> {
    return (await this.#session.query<RolloutRow>(sql.selectNewest, [limit])).rows.map(rolloutFromRow);
  }

  async listMembers(rolloutId: string): Promise<RolloutMember[]> {
    return (await this.#session.query<MemberRow>(sql.selectMembers, [rolloutId])).rows.map(memberFromRow);
  }

  async markStarted(
    rolloutId: string,
    deviceIds: readonly string[],
    started: { deploymentId: string | null; skipReason?: string },
    atMs: number,
  ): Promise<void> {
    await this.#session.query(sql.markStarted, [
      started.deploymentId,
      atMs,
      started.skipReason ?? null,
      rolloutId,
      [...deviceIds],
    ]);
  }

  updateState(
    id: string,
    expectedVersion: number,
    state: RolloutState,
    event: TimelineEvent,
    atMs: number,
  ): Promise<RolloutRecord> {
    return this.#session.transaction(async (client) => {
      const updated = await client.query<RolloutRow>(sql.updateState, [
        JSON.stringify(state),
        state.status,
        atMs,
        id,
        expectedVersion,
      ]);
      const row = updated.rows[0];
      if (row === undefined) {
        const exists = await client.query(sql.selectRollout, [id]);
        throw exists.rows.length === 0 ? missingRollout(id) : staleRollout(id, expectedVersion);
      }
      await client.query(sql.insertEvent, [id, JSON.stringify(event)]);
      return rolloutFromRow(row);
    });
  }

  addMembers(rolloutId: string, join: RolloutJoin): Promise<void> {
    const deviceIds = join.devices.map((d) => d.deviceId);
    return this.#session.transaction(async (client) => {
      await client.query(sql.lockCreation);
      const row = (await client.query<{ status: string }>(sql.lockStatus, [rolloutId])).rows[0];
      if (row === undefined) throw missingRollout(rolloutId);
      if ((finalRolloutStatuses as readonly string[]).includes(row.status))
        throw finishedRollout(rolloutId, row.status);
      if (deviceIds.length > 0) {
        const busy = await client.query<{ device_id: string; rollout_id: string }>(sql.activeRolloutsOf, [
          deviceIds,
        ]);
        if (busy.rows.length > 0)
          throw rolloutConflict(busy.rows.map((r) => ({ deviceId: r.device_id, rolloutId: r.rollout_id })));
        await client.query(sql.insertMembers, [rolloutId, deviceIds, join.devices.map((d) => d.stageIndex)]);
      }
      if (join.event !== null) await client.query(sql.insertEvent, [rolloutId, JSON.stringify(join.event)]);
      await client.query(sql.updateSelection, [join.selectedThroughMs, join.rescannedAtMs, rolloutId]);
    });
  }

  async activeRolloutsOf(deviceIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const batch of idBatches(deviceIds)) {
      const result = await this.#session.query<{ device_id: string; rollout_id: string }>(
        sql.activeRolloutsOf,
        [batch],
      );
      for (const row of result.rows) found.set(row.device_id, row.rollout_id);
    }
    return found;
  }

  async listTimeline(rolloutId: string): Promise<TimelineEvent[]> {
    return (await this.#session.query<EventRow>(sql.selectEvents, [rolloutId])).rows.map(eventFromRow);
  }
}
