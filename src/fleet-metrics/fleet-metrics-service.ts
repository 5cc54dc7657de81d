/** The fleet summary of the whole fleet, a saved group or a fleet query, at the clock's time. */
import type { GroupService } from '../groups/group-service.ts';
import type { Clock } from '../infra/clock.ts';
import type { FleetMetricsStore } from '../store/fleet-metrics-types.ts';
import { computeFleetSummary, type FleetMetricsSummary } from './fleet-summary.ts';

export interface FleetMetricsServiceDeps {
  store: FleetMetricsStore;
  groups: Pick<GroupService, 'deviceQuery' | 'list'>;
  clock: Clock;
}

export function createFleetMetricsService(deps: FleetMetricsServiceDeps) {
  const { store, groups, clock } = deps;
  return {
    /** ValidationError for a bad query or an unknown group (naming it). */
    async summary(options: { group?: string; where?: string } = {}): Promise<FleetMetricsSummary> {
      const where = await groups.deviceQuery(options.where, options.group);
      return computeFleetSummary(store, { ...(where ? { where } : {}), nowMs: clock.now() }, options);
    },
    listGroups: () => groups.list(),
  };
}

export type FleetMetricsService = ReturnType<typeof createFleetMetricsService>;
