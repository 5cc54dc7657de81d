/**
 * What a device should run: the merged layers (merge.ts) with the keys its declared schema
 * refuses taken out, each listed as a conflict with its source and reason. A device without a
 * schema yet gets nothing sent: its document is validated once it declares one. Pure.
 */
import type { ConfigRejection, ConfigSchema, ConfigValues } from '../contracts/config-messages.ts';
import { mergeLayers, type ConfigSource, type GroupLayer } from './merge.ts';
import { validateValues } from './validate.ts';

export interface ConfigConflict extends ConfigRejection {
  source: ConfigSource;
}

export interface ResolvedConfig {
  /** What is (or will be) sent: the merge minus refused keys. */
  values: ConfigValues;
  /** The layer each merged key came from (refused keys included). */
  sources: Record<string, ConfigSource>;
  /** Merged keys the device's schema refuses: not sent. */
  conflicts: ConfigConflict[];
}

export function resolveConfig(input: {
  fleet?: ConfigValues;
  groups: readonly GroupLayer[];
  device?: ConfigValues;
  schema: ConfigSchema | undefined;
}): ResolvedConfig {
  const merged = mergeLayers(input);
  if (input.schema === undefined) return { values: merged.values, sources: merged.sources, conflicts: [] };
  const refused = validateValues(input.schema, merged.values);
  const values: ConfigValues = { ...merged.values };
  for (const { key } of refused) delete values[key];
  return {
    values,
    sources: merged.sources,
    conflicts: refused.map((r) => ({ ...r, source: merged.sources[r.key] ?? { kind: 'device' } })),
  };
}
