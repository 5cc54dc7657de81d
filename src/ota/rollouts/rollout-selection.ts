/**
 * A rollout's selector in the form the store selects with: the structured fields as they are,
 * and the fleet query (`selector.where`, docs/fleet-query.md) parsed — saved groups it names
 * resolved — with its durations (`offline_for > 24h`) counted back from the selection's time.
 * Creation, late joins and rescans all select through here, so they agree.
 */
import type { FleetQuery } from '../../fleet-query/index.ts';
import { ValidationError } from '../../infra/errors.ts';
import type { DeviceSelection } from '../../store/types.ts';
import type { RolloutSelector } from './rollout-spec.ts';

/** Parses a fleet query (with saved groups); ValidationError with the position when it is bad. */
export type FleetQueryResolver = (where: string) => Promise<FleetQuery>;

export async function rolloutSelection(
  selector: RolloutSelector,
  resolve: FleetQueryResolver | undefined,
  nowMs: number,
): Promise<DeviceSelection> {
  const { where, ...fields } = selector;
  if (where === undefined) return fields;
  if (resolve === undefined)
    throw new ValidationError('selector.where: fleet queries are not available on this server', {
      path: 'selector.where',
    });
  return { ...fields, where: { query: await resolve(where), nowMs } };
}
