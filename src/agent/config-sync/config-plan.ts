/**
 * The agent's side of a desired document, as a pure planner (the reconciler pattern): from the
 * state it runs with and what the server wants, the next state, the live keys to apply now, the
 * restart keys to keep for the next start and what it refuses, with reasons. The agent checks
 * every value again against its own schema: it never trusts the server.
 */
import type {
  ConfigDesired,
  ConfigRejection,
  ConfigSchema,
  ConfigValue,
  ConfigValues,
} from '../../contracts/config-messages.ts';
import { schemaDefaults, validateValues } from '../../device-config/validate.ts';

/** What the agent persists: the last desired version processed, values in effect, values waiting for a restart. */
export interface ConfigState {
  version: number;
  applied: ConfigValues;
  pending: ConfigValues;
  /** What the last processed document had refused. */
  rejected: ConfigRejection[];
}

export interface ConfigPlan {
  state: ConfigState;
  /** Live keys whose value changed: apply now. */
  live: ConfigValues;
}

const same = (a: ConfigValue | undefined, b: ConfigValue | undefined) =>
  JSON.stringify(a) === JSON.stringify(b);

/** The state at a start: pending restart values take effect; keys the schema lost or gained are settled. */
export function startupState(schema: ConfigSchema, saved: ConfigState | undefined): ConfigState {
  const defaults = schemaDefaults(schema);
  const merged: Record<string, ConfigValue> = { ...defaults };
  for (const [key, value] of Object.entries({ ...saved?.applied, ...saved?.pending })) {
    if (Object.hasOwn(schema, key) && validateValues(schema, { [key]: value }).length === 0)
      merged[key] = value;
  }
  return { version: saved?.version ?? 0, applied: merged, pending: {}, rejected: saved?.rejected ?? [] };
}

/**
 * `crossCheck` judges the candidate values as a whole (rules across keys) and names the keys it
 * refuses; those keep their current value.
 */
export function planDesired(
  schema: ConfigSchema,
  state: ConfigState,
  desired: ConfigDesired,
  crossCheck: (candidate: ConfigValues) => ConfigRejection[] = () => [],
): ConfigPlan {
  const rejected = validateValues(schema, desired.values);
  const refused = new Set(rejected.map((r) => r.key));
  const current = (key: string) =>
    Object.hasOwn(state.pending, key) ? state.pending[key] : state.applied[key];
  const candidate: Record<string, ConfigValue> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const wanted = Object.hasOwn(desired.values, key) ? desired.values[key] : spec.default;
    candidate[key] = (refused.has(key) ? current(key) : wanted) ?? spec.default;
  }
  for (const rejection of crossCheck(candidate)) {
    rejected.push(rejection);
    const kept = current(rejection.key);
    if (Object.hasOwn(schema, rejection.key) && kept !== undefined) candidate[rejection.key] = kept;
  }
  // Keeping the refused keys must not leave a combination that is still refused: then nothing changes.
  const still = crossCheck(candidate);
  if (still.length > 0) {
    for (const key of Object.keys(schema)) {
      const kept = current(key);
      if (kept !== undefined && !same(kept, candidate[key])) {
        if (!refused.has(key))
          rejected.push({ key, reason: `not applied: ${still[0]?.reason ?? 'refused'}` });
        candidate[key] = kept;
      }
    }
  }
  const applied: Record<string, ConfigValue> = { ...state.applied };
  const pending: Record<string, ConfigValue> = {};
  const live: Record<string, ConfigValue> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = candidate[key] as ConfigValue;
    if (same(value, state.applied[key])) continue;
    if (spec.apply === 'live') {
      applied[key] = value;
      live[key] = value;
    } else {
      pending[key] = value;
    }
  }
  return { state: { version: desired.version, applied, pending, rejected }, live };
}
