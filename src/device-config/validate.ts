/**
 * Checks values against a device's declared schema (contracts/config-messages.ts). Used by the
 * server before it sends anything and again by the agent on what arrives (never trust the
 * server). Pure.
 */
import type {
  ConfigKeySpec,
  ConfigRejection,
  ConfigSchema,
  ConfigValue,
  ConfigValues,
} from '../contracts/config-messages.ts';

/** Why `value` breaks `spec` (naming the rule), or undefined when it fits. */
export function checkValue(spec: ConfigKeySpec, value: ConfigValue): string | undefined {
  switch (spec.type) {
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return spec.type === 'integer' ? 'must be an integer' : 'must be a number';
      if (spec.type === 'integer' && !Number.isInteger(value)) return 'must be an integer';
      if (spec.min !== undefined && value < spec.min) return `must be >= ${spec.min} (min)`;
      if (spec.max !== undefined && value > spec.max) return `must be <= ${spec.max} (max)`;
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (spec.maxLength !== undefined && value.length > spec.maxLength)
        return `must be at most ${spec.maxLength} characters (maxLength)`;
      return undefined;
    case 'enum':
      if (typeof value !== 'string' || !spec.enum.includes(value))
        return `must be one of ${spec.enum.join(', ')} (enum)`;
      return undefined;
  }
}

/** Every key of `values` the schema refuses (unknown keys included), in key order. */
export function validateValues(schema: ConfigSchema, values: ConfigValues): ConfigRejection[] {
  const rejections: ConfigRejection[] = [];
  for (const key of Object.keys(values).sort()) {
    const value = values[key] as ConfigValue;
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    const reason = spec === undefined ? 'unknown key: not in the device schema' : checkValue(spec, value);
    if (reason !== undefined) rejections.push({ key, reason });
  }
  return rejections;
}

/** The schema's defaults: the values a device runs with when nothing is desired. */
export function schemaDefaults(schema: ConfigSchema): ConfigValues {
  return Object.fromEntries(Object.entries(schema).map(([key, spec]) => [key, spec.default]));
}
