/**
 * Devices that join an active rollout's selector after it was created: newly registered devices,
 * and devices whose model, revision, firmware, tags, region or owner changed so that they now
 * match. Each tick reads only the devices changed since the rollout's watermark (an index on
 * devices.attributes_changed_at); every `rescanIntervalMs` a full re-selection catches anything
 * the watermark missed. Both run through the SQL form of the selector. A joining device must be
 * able to take the release (`planDevices`) and belong to no other active rollout (the store's
 * overlap rule); it is placed with `stageForLateDevice` and started when its stage's turn comes.
 */
import type { Device } from '../../contracts/device.ts';
import type { ReleaseStore } from '../../store/release-types.ts';
import type { RolloutMember, RolloutRecord, RolloutStore } from '../../store/rollout-types.ts';
import type { Logger } from 'pino';
import { ValidationError } from '../../infra/errors.ts';
import type { DeviceSelection, DeviceStore } from '../../store/types.ts';
import { planDevices } from '../deployments/deployment-plan.ts';
import { stageForLateDevice } from './cohorts.ts';
import { rolloutSelection, type FleetQueryResolver } from './rollout-selection.ts';
import { devicesJoinedEvent, type TimelineEvent } from './timeline.ts';

/**
 * How far before the watermark each tick reads again: a device changed by another server whose
 * clock is behind, or whose transaction committed after the last read, is still seen. Devices
 * already in the rollout are left out, so reading some twice costs nothing.
 */
export const JOIN_OVERLAP_MS = 60_000;
const pageSize = 1000;

export interface RolloutJoinDeps {
  store: Pick<RolloutStore, 'addMembers' | 'activeRolloutsOf'>;
  devices: Pick<DeviceStore, 'listDevicesMatching'>;
  releases: Pick<ReleaseStore, 'getRelease'>;
  /** Parses `selector.where`; absent on a server without fleet queries (such rollouts select nothing new). */
  fleetQueries?: FleetQueryResolver;
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Adds the devices that joined the selector since the last look; returns the timeline event
 * (null when none joined). The watermarks move in the same transaction, so a restarted server
 * neither adds a device twice nor forgets where it was. ConflictError from the store (another
 * rollout took a device meanwhile) is the caller's: nothing was written, the next tick retries.
 */
export async function joinLateDevices(
  deps: RolloutJoinDeps,
  rollout: RolloutRecord,
  members: readonly RolloutMember[],
  options: { nowMs: number; rescanIntervalMs: number },
): Promise<TimelineEvent | null> {
  const { nowMs } = options;
  const rescan = nowMs - rollout.rescannedAtMs >= options.rescanIntervalMs;
  const sinceMs = rescan ? undefined : rollout.selectedThroughMs - JOIN_OVERLAP_MS;
  const joining = await candidates(deps, rollout, new Set(members.map((m) => m.deviceId)), sinceMs, nowMs);
  const busy = await deps.store.activeRolloutsOf(joining);
  const devices = joining
    .filter((deviceId) => !busy.has(deviceId))
    .map((deviceId) => ({
      deviceId,
      stageIndex: stageForLateDevice(rollout.id, deviceId, rollout.spec.stages),
    }));
  const event =
    devices.length === 0
      ? null
      : devicesJoinedEvent(
          nowMs,
          rollout.state.stageIndex,
          stageCounts(devices, rollout.spec.stages.length),
          rescan,
        );
  await deps.store.addMembers(rollout.id, {
    devices,
    event,
    selectedThroughMs: Math.max(nowMs, rollout.selectedThroughMs),
    rescannedAtMs: rescan ? nowMs : rollout.rescannedAtMs,
  });
  return event;
}

/** Matching devices, not yet members, that can take the release (changed since `sinceMs` if set). */
async function candidates(
  deps: RolloutJoinDeps,
  rollout: RolloutRecord,
  memberIds: ReadonlySet<string>,
  sinceMs: number | undefined,
  nowMs: number,
): Promise<string[]> {
  const { model, version } = rollout.spec.release;
  const release = await deps.releases.getRelease(model, version);
  if (release === undefined) return [];
  let selected: DeviceSelection;
  try {
    selected = await rolloutSelection(rollout.spec.selector, deps.fleetQueries, nowMs);
  } catch (error) {
    // A saved group the query names was deleted or broken since: nobody joins until it is fixed.
    if (!(error instanceof ValidationError)) throw error;
    deps.logger?.warn({ rolloutId: rollout.id, err: error }, 'rollout selector query no longer works');
    return [];
  }
  const selection = {
    ...selected,
    hardwareModel: model,
    notFirmwareVersion: version,
    ...(sinceMs === undefined ? {} : { changedSinceMs: sinceMs }),
  };
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.devices.listDevicesMatching(selection, {
      limit: pageSize,
      ...(cursor ? { cursor } : {}),
    });
    const fresh: Device[] = page.items.filter((device) => !memberIds.has(device.id));
    found.push(...planDevices(release, fresh, false).offer);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return found;
}

function stageCounts(devices: ReadonlyArray<{ stageIndex: number }>, stages: number): number[] {
  const counts = Array.from({ length: stages }, () => 0);
  for (const { stageIndex } of devices) counts[stageIndex] = (counts[stageIndex] ?? 0) + 1;
  return counts;
}
