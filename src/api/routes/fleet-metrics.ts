/** Management API: the fleet summary (docs/fleet-metrics.md). */
import { z } from 'zod';
import { groupNameSchema } from '../../contracts/device-group.ts';
import type { FleetMetricsService } from '../../fleet-metrics/fleet-metrics-service.ts';
import { fleetMetricsSummarySchema } from '../../fleet-metrics/fleet-summary.ts';
import type { DeviceScope } from '../device-scope.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

/** A scoped viewer's summary covers its scope only. */
export function fleetMetricsRoutes(deps: { service: FleetMetricsService; scope: DeviceScope }): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/fleet/summary',
      operationId: 'fleetSummary',
      summary:
        'Online %, firmware versions and % on the current release, battery and signal distributions, error rate; of the fleet, a saved group or a fleet query',
      tag: 'fleet',
      permission: 'devices:read',
      query: z.strictObject({
        group: groupNameSchema.optional(),
        where: z.string().min(1).max(4096).optional(),
      }),
      response: fleetMetricsSummarySchema,
      errors: [400],
      handler: ({ query, principal }) => {
        const where = deps.scope.where(principal, 'devices:read', query.where);
        return deps.service.summary({
          ...(query.group !== undefined ? { group: query.group } : {}),
          ...(where !== undefined ? { where } : {}),
        });
      },
    }),
  ];
}
