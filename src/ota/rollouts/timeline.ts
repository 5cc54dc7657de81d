/**
 * Timeline events: what happened to a rollout, when and by whom. Every state change (a decision
 * of the orchestrator or an operator action) produces exactly one; the store appends them and
 * the audit log and the API show them. Waiting is not an event (it would repeat on every tick).
 */
import { z } from 'zod';

/** The actor of the orchestrator's own decisions. */
export const SYSTEM_ACTOR = 'system';

export const timelineEventKinds = [
  'created',
  'stage-started',
  'hold-started',
  'approval-requested',
  'approved',
  'paused',
  'resumed',
  'completed',
  'cancelled',
  'devices-joined',
] as const;
export type TimelineEventKind = (typeof timelineEventKinds)[number];

export const timelineEventSchema = z.strictObject({
  atMs: z.number().int().nonnegative(),
  kind: z.enum(timelineEventKinds),
  /** A user (operator actions) or `system` (the orchestrator). */
  actor: z.string().min(1),
  /** The stage the rollout was in when it happened (after the event for stage-started). */
  stageIndex: z.number().int().nonnegative(),
  /** One human-readable line. */
  message: z.string(),
  /** Machine-readable facts: gate values, the previous stage, an operator's note. */
  details: z.record(z.string(), z.unknown()),
});
export type TimelineEvent = z.infer<typeof timelineEventSchema>;

/** The first event of every rollout. */
export function createdEvent(
  actor: string,
  nowMs: number,
  details: Record<string, unknown> = {},
): TimelineEvent {
  return {
    atMs: nowMs,
    kind: 'created',
    actor,
    stageIndex: 0,
    message: 'rollout created; stage 1 started',
    details,
  };
}

/** Devices that started matching the selector after creation were added (rollout-joins.ts). */
export function devicesJoinedEvent(
  nowMs: number,
  stageIndex: number,
  perStage: readonly number[],
  rescan: boolean,
): TimelineEvent {
  const devices = perStage.reduce((sum, n) => sum + n, 0);
  return {
    atMs: nowMs,
    kind: 'devices-joined',
    actor: SYSTEM_ACTOR,
    stageIndex,
    message: `${devices} device(s) joined the selector`,
    details: { devices, perStage: [...perStage], rescan },
  };
}
