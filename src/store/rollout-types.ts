/**
 * The rollout store: each rollout's spec and persisted state, its devices (stage, and the
 * deployment that started each one) and its append-only timeline. Implemented in sqlite/ and
 * postgres/ and checked by one contract suite (test/store/rollout-store.contract.ts).
 * Idempotency: every state change is a compare-and-set on `version`, written together with its
 * timeline event, so two orchestrators (or an orchestrator and an operator) never both apply one.
 */
import type { RolloutSpec } from '../ota/rollouts/rollout-spec.ts';
import type { RolloutState } from '../ota/rollouts/rollout-state.ts';
import type { TimelineEvent } from '../ota/rollouts/timeline.ts';

export interface RolloutRecord {
  id: string;
  spec: RolloutSpec;
  state: RolloutState;
  /** Starts at 1; each state change increments it. */
  version: number;
  createdBy: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Watermark of late-device selection: devices that changed before it were considered (ms). */
  selectedThroughMs: number;
  /** When the whole registry was last re-selected for late devices (ms). */
  rescannedAtMs: number;
}

export interface RolloutMember {
  deviceId: string;
  stageIndex: number;
  /** The deployment that offered the release to the device; null until started. */
  deploymentId: string | null;
  /** When the device was started (ms since epoch); null until started. */
  startedAtMs: number | null;
  /** Set when the device was not offered the release when its turn came (e.g. already_installed). */
  skipReason: string | null;
}

export interface NewRollout {
  id: string;
  spec: RolloutSpec;
  state: RolloutState;
  createdBy: string;
  devices: ReadonlyArray<{ deviceId: string; stageIndex: number }>;
  /** The first timeline event (`created`). */
  event: TimelineEvent;
}

/** Devices that joined an active rollout's selector after it was created (rollout-joins.ts). */
export interface RolloutJoin {
  devices: ReadonlyArray<{ deviceId: string; stageIndex: number }>;
  /** The `devices-joined` event; null when no device joins (only the watermarks move). */
  event: TimelineEvent | null;
  selectedThroughMs: number;
  rescannedAtMs: number;
}

export interface RolloutStore {
  /**
   * Stores the rollout, its devices and its first event atomically. ConflictError when a device
   * belongs to another rollout that is not completed or cancelled (details.devices lists them).
   */
  createRollout(rollout: NewRollout, atMs: number): Promise<RolloutRecord>;
  getRollout(id: string): Promise<RolloutRecord | undefined>;
  /** Rollouts that are neither completed nor cancelled, oldest first. */
  listActiveRollouts(): Promise<RolloutRecord[]>;
  /** Every rollout, newest first, at most `limit`. */
  listRollouts(limit: number): Promise<RolloutRecord[]>;
  /** The rollout's devices, by stage then device id. */
  listMembers(rolloutId: string): Promise<RolloutMember[]>;
  /** Records that the devices were started by `deploymentId` (null with a skip reason). */
  markStarted(
    rolloutId: string,
    deviceIds: readonly string[],
    started: { deploymentId: string | null; skipReason?: string },
    atMs: number,
  ): Promise<void>;
  /**
   * Replaces the state if the stored version is still `expectedVersion`, appending `event` in
   * the same transaction. ConflictError when it changed meanwhile; NotFoundError when unknown.
   */
  updateState(
    id: string,
    expectedVersion: number,
    state: RolloutState,
    event: TimelineEvent,
    atMs: number,
  ): Promise<RolloutRecord>;
  /**
   * Adds late devices to an active rollout, with their event and the new watermarks, atomically.
   * The overlap rule of createRollout holds: ConflictError (details.devices) when a device already
   * belongs to a rollout that is not completed or cancelled, this one included; ConflictError when
   * the rollout itself is completed or cancelled; NotFoundError when unknown. The rollout's
   * version does not change: joins do not race operator actions.
   */
  addMembers(rolloutId: string, join: RolloutJoin): Promise<void>;
  /** Of the given devices, those in a rollout that is not completed or cancelled (device id → rollout id). */
  activeRolloutsOf(deviceIds: readonly string[]): Promise<Map<string, string>>;
  /** Oldest first. */
  listTimeline(rolloutId: string): Promise<TimelineEvent[]>;
}
