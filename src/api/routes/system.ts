/** Fleet summary and health routes. */
import { z } from 'zod';
import { fleetSummarySchema } from '../../contracts/device.ts';
import type { DeviceStore } from '../../store/types.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

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
    defineRoute({
      method: 'GET',
      path: '/api/v1/fleet/summary',
      operationId: 'fleetSummary',
      summary: 'How many devices are registered and online',
      tag: 'fleet',
      response: fleetSummarySchema,
      handler: () => store.fleetSummary(),
    }),
  ];
}
