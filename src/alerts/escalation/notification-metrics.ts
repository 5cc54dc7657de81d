/**
 * /metrics for notifications: deliveries by outcome, the queue per channel (read from the
 * ledger when scraped), and delivery durations.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NotificationStore } from '../../store/notification-types.ts';

/** sent · retry (failed, will be tried again) · failed (gave up) · grouped (held for a digest) · digest (digest built). */
export type NotificationOutcome = 'sent' | 'retry' | 'failed' | 'grouped' | 'digest';

export interface NotificationMetrics {
  count(channel: string, outcome: NotificationOutcome, n?: number): void;
  /** One delivery attempt's duration. */
  observe(channel: string, seconds: number): void;
}

export function createNotificationMetrics(
  registry: Registry,
  deps: { store: Pick<NotificationStore, 'countQueued'>; channels: readonly string[] },
): NotificationMetrics {
  const total = new Counter({
    name: 'flotilla_notifications_total',
    help: 'Alert notifications by channel and outcome (sent, retry, failed, grouped, digest)',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'flotilla_notification_queue_depth',
    help: 'Notifications waiting on a channel: due later, for the rate limit, for a retry, or for a digest',
    labelNames: ['channel'],
    registers: [registry],
    async collect() {
      for (const channel of deps.channels) this.set({ channel }, 0);
      for (const row of await deps.store.countQueued()) this.set({ channel: row.channel }, row.count);
    },
  });
  const duration = new Histogram({
    name: 'flotilla_notification_delivery_duration_seconds',
    help: 'Duration of one notification delivery attempt',
    labelNames: ['channel'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    count: (channel, outcome, n = 1) => total.inc({ channel, outcome }, n),
    observe: (channel, seconds) => duration.observe({ channel }, seconds),
  };
}
