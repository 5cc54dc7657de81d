/**
 * The effective desired document of one device: the fleet default, then the group defaults of
 * the groups it belongs to (ascending priority; equal priority in group-name order, so the later
 * name wins), then the device's own desired document. Each key records the layer it came from.
 * Pure.
 */
import type { ConfigValue, ConfigValues } from '../contracts/config-messages.ts';

/** Where an effective key came from. */
export type ConfigSource = { kind: 'fleet' } | { kind: 'group'; name: string } | { kind: 'device' };

export interface ConfigLayer {
  source: ConfigSource;
  values: ConfigValues;
}

export interface GroupLayer {
  name: string;
  priority: number;
  values: ConfigValues;
}

export interface EffectiveConfig {
  values: ConfigValues;
  sources: Record<string, ConfigSource>;
}

/** Group layers in precedence order, lowest first: priority ascending, then name ascending. */
export function orderGroupLayers(groups: readonly GroupLayer[]): GroupLayer[] {
  return [...groups].sort((a, b) =>
    a.priority !== b.priority ? a.priority - b.priority : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}

export function mergeLayers(input: {
  fleet?: ConfigValues;
  groups: readonly GroupLayer[];
  device?: ConfigValues;
}): EffectiveConfig {
  const layers: ConfigLayer[] = [
    ...(input.fleet ? [{ source: { kind: 'fleet' } as const, values: input.fleet }] : []),
    ...orderGroupLayers(input.groups).map((group) => ({
      source: { kind: 'group', name: group.name } as const,
      values: group.values,
    })),
    ...(input.device ? [{ source: { kind: 'device' } as const, values: input.device }] : []),
  ];
  const values: Record<string, ConfigValue> = {};
  const sources: Record<string, ConfigSource> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      values[key] = value;
      sources[key] = layer.source;
    }
  }
  return { values: sortedValues(values), sources };
}

/** `values` with its keys in order, so equal documents serialise identically. */
export function sortedValues(values: ConfigValues): ConfigValues {
  return Object.fromEntries(
    Object.keys(values)
      .sort()
      .map((key) => [key, values[key] as ConfigValue]),
  );
}

/** Whether two documents hold the same keys and values. */
export function sameValues(a: ConfigValues, b: ConfigValues): boolean {
  return JSON.stringify(sortedValues(a)) === JSON.stringify(sortedValues(b));
}

/** `values` with `set` applied and the `unset` keys removed. */
export function editValues(values: ConfigValues, edit: { set?: ConfigValues; unset?: readonly string[] }) {
  const next: Record<string, ConfigValue> = { ...values, ...edit.set };
  for (const key of edit.unset ?? []) delete next[key];
  return sortedValues(next);
}
