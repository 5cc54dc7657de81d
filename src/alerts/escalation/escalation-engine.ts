/**
 * The escalation engine. Each tick (on injected timers and clock) it
 *  1. starts the chain of every open alert's severity that has none yet (escalation-plan.ts),
 *  2. cancels the steps not yet sent of alerts acknowledged or resolved,
 *  3. schedules `resolved` notifications on the channels that were sent a step,
 *  4. per channel: applies the rate limit (admit or group; digest when the window reopens) and
 *     lets that channel's queue deliver what is due.
 * Everything is in the ledger (NotificationStore), so a restart resumes where it stopped: no
 * step is sent twice or lost, except an attempt cut off by the crash, which is retried with the
 * same delivery id.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import type { AlertStore } from '../../store/alert-types.ts';
import type { NotificationStore } from '../../store/notification-types.ts';
import type { Alert } from '../alert.ts';
import type { NotificationChannel } from '../channels/channel.ts';
import { ChannelQueue } from './channel-queue.ts';
import { chainFor, type EscalationConfig } from './escalation-config.ts';
import { planChain } from './escalation-plan.ts';
import { createNotificationMetrics, type NotificationMetrics } from './notification-metrics.ts';
import type { NotificationRecord } from './notification.ts';

export interface EscalationEngineDeps {
  notifications: NotificationStore;
  alerts: Pick<AlertStore, 'listAlerts' | 'getAlert'>;
  channels: readonly NotificationChannel[];
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** Where /metrics live; a private registry when omitted. */
  metricsRegistry?: Registry;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** The management API's URL, for links when `linkBaseUrl` is not configured. */
  apiUrl: () => string;
}

/** How far back resolutions are looked at for `resolved` notifications (covers a day of downtime). */
const RESOLVED_LOOKBACK_MS = 24 * 3_600_000;
const PAGE = 1000;

const newDigestId = (atMs: number): string =>
  `dg-${atMs.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;

export function createEscalationEngine(deps: EscalationEngineDeps, config: EscalationConfig) {
  const { notifications: store, clock, logger } = deps;
  const metrics: NotificationMetrics = createNotificationMetrics(deps.metricsRegistry ?? new Registry(), {
    store,
    channels: deps.channels.map((c) => c.name),
  });
  const queues = new Map(
    deps.channels.map((channel) => [
      channel.name,
      new ChannelQueue({
        channel,
        store,
        alerts: deps.alerts,
        clock,
        timers: deps.timers,
        logger: logger.child({ channel: channel.name }),
        metrics,
        random: deps.random ?? Math.random,
        linkBaseUrl: () => (config.linkBaseUrl ?? deps.apiUrl()).replace(/\/+$/, ''),
      }),
    ]),
  );

  async function* unresolvedAlerts(): AsyncGenerator<Alert> {
    let cursor: string | undefined;
    do {
      const page = await deps.alerts.listAlerts(
        { state: 'unresolved' },
        { limit: PAGE, ...(cursor ? { cursor } : {}) },
      );
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  async function planChains(nowMs: number): Promise<void> {
    const started = await store.startedChains();
    for await (const alert of unresolvedAlerts()) {
      const plan = planChain(alert, chainFor(config, alert.severity), started.get(alert.id) ?? [], nowMs);
      if (plan.rows.length === 0) continue;
      await store.schedule(
        plan.rows,
        plan.superseded.map((severity) => ({ alertId: alert.id, severity })),
      );
    }
  }

  async function admitAndDeliver(channel: NotificationChannel, nowMs: number): Promise<void> {
    const { max, windowS } = channel.policy.rateLimit;
    const outcome = await store.admit(
      channel.name,
      nowMs,
      { max, windowMs: windowS * 1000 },
      newDigestId(nowMs),
    );
    if (outcome.grouped > 0) {
      metrics.count(channel.name, 'grouped', outcome.grouped);
      logger.warn(
        { channel: channel.name, grouped: outcome.grouped },
        'notification rate limit reached; grouping',
      );
    }
    if (outcome.digest) metrics.count(channel.name, 'digest');
    await queues.get(channel.name)?.pump();
  }

  let running: Promise<void> | undefined;
  let interval: unknown;

  const engine = {
    /** One pass (see the file comment). Deliveries it starts continue after it returns. */
    async tick(): Promise<void> {
      const nowMs = clock.now();
      await planChains(nowMs);
      await store.cancelStopped();
      if (config.notifyResolved) await store.scheduleResolved(nowMs - RESOLVED_LOOKBACK_MS);
      // Channels are independent: one failing (store error included) does not stop the others.
      const results = await Promise.allSettled(
        deps.channels.map((channel) => admitAndDeliver(channel, nowMs)),
      );
      results.forEach((result, index) => {
        if (result.status === 'rejected')
          logger.error(
            { err: result.reason, channel: deps.channels[index]?.name },
            'notification channel tick failed',
          );
      });
    },

    /** Ticks every `tickIntervalS`; a tick still running when the next is due is not overlapped. */
    start(): void {
      interval = deps.timers.setInterval(() => {
        running ??= engine
          .tick()
          .catch((err: unknown) => logger.error({ err }, 'escalation tick failed'))
          .finally(() => {
            running = undefined;
          });
      }, config.tickIntervalS * 1000);
    },

    /** Resolves when the queues (all, or one channel's) have nothing in flight. */
    async settled(channel?: string): Promise<void> {
      const waiting = channel === undefined ? [...queues.values()] : [queues.get(channel)];
      await Promise.all(waiting.map((queue) => queue?.idle() ?? Promise.resolve()));
    },

    /** Stops ticking and waits for deliveries in flight (each ends by its timeout). */
    async stop(): Promise<void> {
      if (interval !== undefined) deps.timers.clearInterval(interval);
      interval = undefined;
      await running;
      await engine.settled();
      await Promise.all(deps.channels.map((channel) => channel.close?.() ?? Promise.resolve()));
    },

    /** The alert's ledger rows, oldest first. */
    notificationsFor: (alertId: string): Promise<NotificationRecord[]> => store.listForAlert(alertId),
  };
  return engine;
}

export type EscalationEngine = ReturnType<typeof createEscalationEngine>;
