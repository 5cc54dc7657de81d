/** What the device's link is like, as the decisions see it. Pure. */
import type { PlanInput } from './input-schema.ts';

/** Below this uplink a link is narrow-band (NB-IoT, LTE-M, weak cellular), in kbit/s. */
export const NARROW_BAND_KBPS = 1000;

export interface LinkProfile {
  narrowBand: boolean;
  metered: boolean;
  batteryPowered: boolean;
  /** Seconds to move `mib` MiB over the uplink bandwidth (no protocol overhead). */
  transferS(mib: number): number;
}

export function linkProfile(input: PlanInput): LinkProfile {
  const c = input.hardware.connectivity;
  return {
    narrowBand: c.kind === 'nb-iot' || c.kind === 'lte-m' || c.bandwidthKbps < NARROW_BAND_KBPS,
    metered: c.dataCostPerMiB > 0,
    batteryPowered: c.batteryPowered,
    transferS: (mib) => (mib * 8 * 1024 * 1024) / (c.bandwidthKbps * 1000),
  };
}
