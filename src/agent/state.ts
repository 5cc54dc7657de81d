/** Pure helpers for what the agent reports: seq, uptime, state merging. No I/O. */
import { isDeepStrictEqual } from 'node:util';
import { stateReportedSchema, type Heartbeat, type StateReported } from '../contracts/device-messages.ts';
import { ValidationError } from '../infra/errors.ts';
import type { AgentOptions, DeviceState } from './types.ts';

/** The state/reported fields the agent owns, validated before anything is sent. */
export const deviceStateSchema = stateReportedSchema.omit({ seq: true, uptimeS: true });

/** Throws a ValidationError naming the field, so a bad config fails at start, not at the server. */
export function validateState(state: DeviceState): DeviceState {
  const result = deviceStateSchema.safeParse(state);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(state)'}: ${i.message}`);
  throw new ValidationError(`invalid device state: ${issues.join('; ')}`, { issues });
}

/**
 * The seq of the next state/reported. The server drops reports whose seq is not greater than
 * the last one it stored, so seq must grow even across agent restarts — and the agent persists
 * nothing. Wall-clock milliseconds do that for free: a restart happens later than any earlier
 * report. `lastSeq + 1` keeps seq strictly increasing within one run when two reports fall in
 * the same millisecond or the clock steps back (NTP). Limitation: a device whose clock jumps
 * back across a restart (no RTC, before NTP sync) has its reports ignored until it catches up.
 */
export function nextSeq(lastSeq: number | undefined, nowMs: number): number {
  const candidate = Math.max(0, Math.floor(nowMs));
  return lastSeq === undefined ? candidate : Math.max(lastSeq + 1, candidate);
}

/** Whole seconds since `startedMs`; never negative even if the clock steps back. */
export function uptimeSeconds(startedMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - startedMs) / 1000));
}

/** The initial state from the agent options. */
export function initialState(options: AgentOptions): DeviceState {
  const state: DeviceState = {
    firmwareVersion: options.firmwareVersion,
    hardware: { ...options.identity.hardware },
    serial: options.identity.serial,
  };
  if (options.region !== undefined) state.region = options.region;
  if (options.tags !== undefined) state.tags = { ...options.tags };
  return state;
}

/** Merges `partial` into `current`; `changed` says whether a report is due. */
export function mergeState(
  current: DeviceState,
  partial: Partial<DeviceState>,
): { state: DeviceState; changed: boolean } {
  const next: DeviceState = { ...current };
  for (const [key, value] of Object.entries(partial) as [keyof DeviceState, unknown][]) {
    // An explicit undefined clears an optional field (region, tags); required ones stay.
    if (value === undefined) {
      if (key === 'region' || key === 'tags') delete next[key];
    } else {
      (next as Record<string, unknown>)[key] = value;
    }
  }
  return { state: next, changed: !isDeepStrictEqual(current, next) };
}

export function buildStateReport(state: DeviceState, seq: number, uptimeS: number): StateReported {
  return { seq, ...state, uptimeS };
}

export function buildHeartbeat(uptimeS: number): Heartbeat {
  return { uptimeS };
}
