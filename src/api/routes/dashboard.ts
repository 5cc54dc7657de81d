/** Management API: the dashboard's overview, trends and live stream (docs/dashboard.md). */
import { z } from 'zod';
import {
  dashboardOverviewSchema,
  dashboardTrendsQuerySchema,
  dashboardTrendsSchema,
} from '../../dashboard/overview-schema.ts';
import type { LiveHub } from '../../dashboard/live-hub.ts';
import type { OverviewService } from '../../dashboard/overview-service.ts';
import { trendRange } from '../../dashboard/trends.ts';
import type { Clock } from '../../infra/clock.ts';
import type { DeviceScope } from '../device-scope.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export interface DashboardRouteDeps {
  overview: OverviewService;
  live: Pick<LiveHub, 'subscribe' | 'overview'>;
  /** Narrows the fleet numbers to the caller's devices:read scope. */
  scope: DeviceScope;
  clock: Clock;
}

/** A scoped caller sees its scope's fleet numbers; whole-fleet trends are not shown to it. */
export function dashboardRoutes(deps: DashboardRouteDeps): ApiRoute[] {
  const { overview, live, scope, clock } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/dashboard/overview',
      operationId: 'dashboardOverview',
      summary:
        'Everything the overview page shows in one answer: fleet summary (of your scope), alert counts, active rollouts, last 24 h of trends',
      tag: 'dashboard',
      permission: 'devices:read',
      response: dashboardOverviewSchema,
      errors: [400],
      handler: ({ principal }) => live.overview({ where: scope.where(principal, 'devices:read', undefined) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/dashboard/trends',
      operationId: 'dashboardTrends',
      summary:
        'Whole-fleet snapshots over a time range (default: the last 24 h), at most 2,000 points, evenly thinned when more',
      tag: 'dashboard',
      permission: 'devices:read',
      query: dashboardTrendsQuerySchema,
      response: dashboardTrendsSchema,
      errors: [400],
      handler: ({ query, principal }) => {
        const { fromMs, toMs } = trendRange(query, clock.now());
        return overview.trends(fromMs, toMs, scope.isScoped(principal, 'devices:read'));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/dashboard/events',
      operationId: 'dashboardEvents',
      summary:
        'Server-Sent Events: `event: overview` (the overview JSON) at connect and every dashboard.liveIntervalS, `: keepalive` every 15 s',
      tag: 'dashboard',
      permission: 'devices:read',
      // No parameters: EventSource sends none.
      query: z.strictObject({}),
      response: z.string(),
      produces: ['text/event-stream'],
      errors: [400],
      handler: async ({ principal }) => ({
        contentType: 'text/event-stream',
        body: await live.subscribe({ where: scope.where(principal, 'devices:read', undefined) }),
        headers: { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
      }),
    }),
  ];
}
