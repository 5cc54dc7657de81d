/** Fleet-level gauges on /metrics, read from the store when Prometheus scrapes. */
import { Gauge, type Registry } from 'prom-client';
import type { DeviceStore } from '../store/types.ts';

export function createFleetMetrics(registry: Registry, store: DeviceStore): void {
  new Gauge({
    name: 'flotilla_fleet_devices',
    help: 'Registered devices by connection state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const summary = await store.fleetSummary();
      this.set({ state: 'online' }, summary.online);
      this.set({ state: 'offline' }, summary.total - summary.online);
    },
  });
}
