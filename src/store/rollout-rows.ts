/**
 * The rollout rows both stores share and their mapping to the store's types. SQLite holds times
 * as INTEGER ms and JSON as TEXT; PostgreSQL as bigint (returned as text) and jsonb (parsed), so
 * the decoders accept either. Spec, state and events are validated with the domain's schemas on
 * the way out: a hand-edited database fails loudly instead of driving devices.
 */
import { ConflictError, NotFoundError } from '../infra/errors.ts';
import { finalRolloutStatuses, rolloutStateSchema } from '../ota/rollouts/rollout-state.ts';
import { rolloutSpecSchema } from '../ota/rollouts/rollout-spec.ts';
import { timelineEventSchema, type TimelineEvent } from '../ota/rollouts/timeline.ts';
import type { RolloutMember, RolloutRecord } from './rollout-types.ts';

type Big = number | string;
type Json = unknown;

export interface RolloutRow {
  id: string;
  spec: Json;
  state: Json;
  version: Big;
  created_by: string;
  created_at: Big;
  updated_at: Big;
  selected_through: Big;
  rescanned_at: Big;
}

export interface MemberRow {
  device_id: string;
  stage_index: Big;
  deployment_id: string | null;
  started_at: Big | null;
  skip_reason: string | null;
}

export interface EventRow {
  event: Json;
}

const json = (value: Json): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

export const rolloutColumns =
  'id, spec, state, version, created_by, created_at, updated_at, selected_through, rescanned_at';
export const memberColumns = 'device_id, stage_index, deployment_id, started_at, skip_reason';

/** The `status` column, kept next to the state JSON so active rollouts can be queried. */
export const finalStatusList = finalRolloutStatuses.map((status) => `'${status}'`).join(', ');

export function rolloutFromRow(row: RolloutRow): RolloutRecord {
  return {
    id: row.id,
    spec: rolloutSpecSchema.parse(json(row.spec)),
    state: rolloutStateSchema.parse(json(row.state)),
    version: Number(row.version),
    createdBy: row.created_by,
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
    selectedThroughMs: Number(row.selected_through),
    rescannedAtMs: Number(row.rescanned_at),
  };
}

export function memberFromRow(row: MemberRow): RolloutMember {
  return {
    deviceId: row.device_id,
    stageIndex: Number(row.stage_index),
    deploymentId: row.deployment_id,
    startedAtMs: row.started_at === null ? null : Number(row.started_at),
    skipReason: row.skip_reason,
  };
}

export function eventFromRow(row: EventRow): TimelineEvent {
  return timelineEventSchema.parse(json(row.event));
}

export function rolloutConflict(
  devices: ReadonlyArray<{ deviceId: string; rolloutId: string }>,
): ConflictError {
  const listed = devices
    .slice(0, 20)
    .map((d) => `${d.deviceId} (${d.rolloutId})`)
    .join(', ');
  return new ConflictError(`device(s) already in an active rollout: ${listed}`, { devices });
}

export const finishedRollout = (id: string, status: string): ConflictError =>
  new ConflictError(`rollout ${id} is ${status}: no device joins it`, { id, status });

export function staleRollout(id: string, expectedVersion: number): ConflictError {
  return new ConflictError(`rollout ${id} changed meanwhile; read it again`, { id, expectedVersion });
}

export const missingRollout = (id: string): NotFoundError =>
  new NotFoundError(`rollout ${id} not found`, { id });
