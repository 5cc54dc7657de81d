/**
 * The persisted progress of a rollout: everything the state machine needs besides the spec,
 * the gate results and the time. The store keeps it as one row per rollout and validates it
 * with this schema when reading it back.
 */
import { z } from 'zod';
import { gateNames } from './gates.ts';

/** Ordered as a rollout usually goes; `completed` and `cancelled` are final. */
export const rolloutStatuses = ['running', 'waiting-approval', 'paused', 'completed', 'cancelled'] as const;
export type RolloutStatus = (typeof rolloutStatuses)[number];
export const finalRolloutStatuses: readonly RolloutStatus[] = ['completed', 'cancelled'];

/** Why a rollout is paused: a gate that failed (with its values) or an operator. */
export const pauseReasonSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('gate'),
    gate: z.enum(gateNames),
    value: z.number().nullable(),
    threshold: z.number(),
    message: z.string(),
  }),
  z.strictObject({ kind: z.literal('operator'), actor: z.string(), message: z.string() }),
]);
export type PauseReason = z.infer<typeof pauseReasonSchema>;

export const rolloutStateSchema = z.strictObject({
  status: z.enum(rolloutStatuses),
  /** The stage whose devices are being updated (0-based). */
  stageIndex: z.number().int().nonnegative(),
  /** When the current stage started (ms since epoch). */
  stageStartedAtMs: z.number().int().nonnegative(),
  /** When every gate of the current stage first passed: its hold counts from here. Null before. */
  holdStartedAtMs: z.number().int().nonnegative().nullable(),
  /** Set while paused, null otherwise. */
  pauseReason: pauseReasonSchema.nullable(),
});
export type RolloutState = z.infer<typeof rolloutStateSchema>;

/** The state of a rollout just created: running its first stage. */
export function initialRolloutState(nowMs: number): RolloutState {
  return {
    status: 'running',
    stageIndex: 0,
    stageStartedAtMs: nowMs,
    holdStartedAtMs: null,
    pauseReason: null,
  };
}

/** Whether new devices may be started now (only while running; waiting and paused start none). */
export function startsDevices(state: RolloutState): boolean {
  return state.status === 'running';
}
