/**
 * Which maintenance window a rollout's device installs in: the first of the spec's windows whose
 * selector matches it, or none (any time). Pure; the orchestrator makes one deployment per
 * distinct window, since the window travels with the deployment's offer.
 */
import type { MaintenanceWindow } from '../../contracts/maintenance-window.ts';
import { matchesSelector, type SelectableDevice } from './device-selector.ts';
import type { RolloutWindow } from './rollout-spec.ts';

export interface WindowGroup {
  window: MaintenanceWindow | null;
  deviceIds: string[];
}

/** The window that applies to `device`, or null when none of the windows matches it. */
export function windowFor(
  windows: readonly RolloutWindow[],
  device: SelectableDevice,
): MaintenanceWindow | null {
  const match = windows.find((w) => matchesSelector(w.selector, device));
  if (match === undefined) return null;
  return { cron: match.cron, durationS: match.durationS, timezone: match.timezone };
}

/**
 * Groups devices by the window that applies to them, in the order of first appearance (so
 * devices keep their start order within a group). A device without a record (deleted since the
 * rollout was planned) goes with no window; deploying it then fails as it would have anyway.
 */
export function groupByWindow(
  windows: readonly RolloutWindow[],
  deviceIds: readonly string[],
  records: ReadonlyMap<string, SelectableDevice>,
): WindowGroup[] {
  const groups = new Map<string, WindowGroup>();
  for (const deviceId of deviceIds) {
    const record = records.get(deviceId);
    const window = record === undefined ? null : windowFor(windows, record);
    const key = JSON.stringify(window);
    const group = groups.get(key) ?? { window, deviceIds: [] };
    group.deviceIds.push(deviceId);
    groups.set(key, group);
  }
  return [...groups.values()];
}
