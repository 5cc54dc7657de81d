/**
 * Faults planted in a simulated fleet while it runs, for tests and demos of anomaly detection
 * (docs/anomaly-detection.md): a failing battery that drains many times faster, and an error rate
 * that rises over time. Taking devices offline is the simulation handle's `disconnect`. Pure.
 */

export interface SimFault {
  /** When the fault was planted, ms since the epoch. */
  sinceMs: number;
  /** The battery drains this many times faster (a failing cell); 1 = healthy. */
  batteryDrainFactor?: number;
  /** The error rate rises linearly from 1× at `sinceMs` to this many times over `errorRampMs`, then stays. */
  errorFactor?: number;
  /** 0 (default): the full factor at once. */
  errorRampMs?: number;
}

/** The fault of a device now, if any: read by its telemetry source at every sample. */
export type FaultLookup = () => SimFault | undefined;

/** How many times the base error rate the fault adds up to at `nowMs`. */
export function errorFactorAt(fault: SimFault | undefined, nowMs: number): number {
  if (fault?.errorFactor === undefined || nowMs < fault.sinceMs) return 1;
  const ramp = fault.errorRampMs ?? 0;
  const progress = ramp <= 0 ? 1 : Math.min(1, (nowMs - fault.sinceMs) / ramp);
  return 1 + (fault.errorFactor - 1) * progress;
}

/** How many times faster the battery drains at `nowMs`. */
export function batteryDrainFactorAt(fault: SimFault | undefined, nowMs: number): number {
  if (fault?.batteryDrainFactor === undefined || nowMs < fault.sinceMs) return 1;
  return fault.batteryDrainFactor;
}
