/** Health route (the fleet summary is in fleet-metrics.ts). */
import { z } from 'zod';
import type { DeviceStore } from '../../store/types.ts';
import { PUBLIC, defineRoute, type ApiRoute } from '../route.ts';

export function systemRoutes(deps: {
  store: DeviceStore;
  version: string;
  gatewayConnected: () => number;
}): ApiRoute[] {
  const { store } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness and store reachability',
      tag: 'system',
      permission: PUBLIC,
      response: z.object({
        status: z.literal('ok'),
        version: z.string(),
        connectedDevices: z.number().int(),
      }),
      errors: [503],
      handler: async () => {
        await store.fleetSummary(); // throws UnavailableError when the store is down
        return { status: 'ok' as const, version: deps.version, connectedDevices: deps.gatewayConnected() };
      },
    }),
  ];
}
