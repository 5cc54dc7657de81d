/**
 * One channel's delivery queue: claims the channel's due notifications from the ledger and
 * delivers up to `concurrency` at once, each attempt bounded by the channel's timeout. Every
 * channel has its own queue, so a slow or failing webhook never delays another channel.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import type { AlertStore } from '../../store/alert-types.ts';
import type { NotificationStore } from '../../store/notification-types.ts';
import { DeliveryError, type NotificationChannel } from '../channels/channel.ts';
import { alertSummary, type NotificationMessage } from '../channels/message.ts';
import type { NotificationMetrics } from './notification-metrics.ts';
import { deliveryIdOf, type NotificationRecord } from './notification.ts';
import { retryDecision } from './retry.ts';

export interface ChannelQueueDeps {
  channel: NotificationChannel;
  store: NotificationStore;
  alerts: Pick<AlertStore, 'getAlert'>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metrics: NotificationMetrics;
  random: () => number;
  linkBaseUrl: () => string;
}

/** A claimed row is not claimed again for this long past its timeout (a crash mid-attempt). */
const LEASE_MARGIN_MS = 60_000;

export class ChannelQueue {
  readonly #deps: ChannelQueueDeps;
  readonly #inFlight = new Map<number, Promise<void>>();
  /** The last claim filled every free slot: more may be due. */
  #backlog = false;
  #pumping: Promise<void> | undefined;

  constructor(deps: ChannelQueueDeps) {
    this.#deps = deps;
  }

  /** Starts the due attempts there is room for; does not wait for them. */
  pump(): Promise<void> {
    this.#pumping ??= this.#claim().finally(() => {
      this.#pumping = undefined;
    });
    return this.#pumping;
  }

  /** Resolves when nothing is being claimed or delivered (in-flight attempts end by their timeout). */
  async idle(): Promise<void> {
    while (this.#pumping !== undefined || this.#inFlight.size > 0) {
      await this.#pumping;
      await Promise.all(this.#inFlight.values());
    }
  }

  async #claim(): Promise<void> {
    const { channel, store, clock } = this.#deps;
    const free = channel.policy.concurrency - this.#inFlight.size;
    if (free <= 0) return;
    const leaseMs = channel.policy.timeoutMs + LEASE_MARGIN_MS;
    const claimed = await store.claimDue(channel.name, clock.now(), leaseMs, free);
    this.#backlog = claimed.length === free;
    for (const record of claimed) {
      const attempt = this.#attempt(record).finally(() => {
        this.#inFlight.delete(record.id);
        if (this.#backlog) void this.pump();
      });
      this.#inFlight.set(record.id, attempt);
    }
  }

  async #attempt(record: NotificationRecord): Promise<void> {
    const { channel, clock, timers, metrics } = this.#deps;
    const controller = new AbortController();
    const timeout = timers.setTimeout(() => controller.abort(), channel.policy.timeoutMs);
    const startedMs = clock.now();
    try {
      const message = await this.#message(record);
      await Promise.race([channel.deliver(message, controller.signal), aborted(controller.signal)]);
      await this.#deps.store.markSent(record.id, clock.now());
      metrics.count(channel.name, 'sent');
    } catch (err) {
      // Whatever the channel threw once its time was up, the cause is the timeout.
      const cause = controller.signal.aborted
        ? new DeliveryError(`timed out after ${channel.policy.timeoutMs} ms`, true)
        : err;
      await this.#failed(record, cause);
    } finally {
      timers.clearTimeout(timeout);
      metrics.observe(channel.name, (clock.now() - startedMs) / 1000);
    }
  }

  async #failed(record: NotificationRecord, err: unknown): Promise<void> {
    const { channel, clock, metrics, logger, store, random } = this.#deps;
    const failure =
      err instanceof DeliveryError ? err : new DeliveryError(String((err as Error).message ?? err), true);
    const decision = retryDecision(channel.policy, record.attempts, failure, random);
    const context = {
      channel: channel.name,
      alertId: record.alertId,
      step: record.step,
      attempts: record.attempts,
    };
    if (decision.retry) {
      await store.markRetry(record.id, clock.now() + decision.delayMs, failure.message);
      metrics.count(channel.name, 'retry');
      logger.warn(
        { ...context, retryInMs: decision.delayMs, err: failure.message },
        'notification failed; will retry',
      );
    } else {
      await store.markFailed(record.id, failure.message);
      metrics.count(channel.name, 'failed');
      logger.error({ ...context, err: failure.message }, 'notification failed; giving up');
    }
  }

  async #message(record: NotificationRecord): Promise<NotificationMessage> {
    const base = this.#deps.linkBaseUrl();
    const common = {
      deliveryId: deliveryIdOf(record),
      kind: record.kind,
      step: record.step,
      channel: record.channel,
    };
    if (record.kind === 'digest') {
      const contents = await this.#deps.store.digestContents(
        record.alertId,
        this.#deps.channel.policy.rateLimit.digestListMax,
      );
      const alerts = contents.items.map((item) => ({
        kind: item.kind,
        alert: alertSummary(item.alert, base),
      }));
      return {
        ...common,
        alert: null,
        digest: { count: contents.count, alerts, link: `${base}/api/v1/alerts?state=unresolved` },
      };
    }
    const alert = await this.#deps.alerts.getAlert(record.alertId);
    if (!alert) throw new DeliveryError(`alert ${record.alertId} no longer exists`, false);
    return { ...common, alert: alertSummary(alert, base), digest: null };
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void => reject(new DeliveryError('timed out', true));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
