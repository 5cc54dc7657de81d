/** Unresolved alerts on /metrics, read from the store when Prometheus scrapes. */
import { Gauge, type Registry } from 'prom-client';
import { alertSeverities } from './alert.ts';
import type { AlertService } from './alert-service.ts';

export function createAlertMetrics(registry: Registry, alerts: Pick<AlertService, 'countUnresolved'>): void {
  new Gauge({
    name: 'flotilla_alerts_unresolved',
    help: 'Unresolved alerts by state (open, acknowledged) and severity',
    labelNames: ['state', 'severity'],
    registers: [registry],
    async collect() {
      // Every series is reported, zeros included, so a cleared alert sets its series back to 0.
      for (const state of ['open', 'acknowledged'] as const)
        for (const severity of alertSeverities) this.set({ state, severity }, 0);
      for (const row of await alerts.countUnresolved())
        this.set({ state: row.state, severity: row.severity }, row.count);
    },
  });
}
