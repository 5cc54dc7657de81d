/**
 * Connects the update client to the server: offers arrive by push (`update/notify`, retained) and
 * by pull (`GET /device/v1/update` every `pollIntervalS` with jitter, with If-None-Match), and both
 * go to the same `client.offer()`. Status reports go out on `update/status` (QoS 1); while the
 * device is offline they wait in order and are sent on the next connect. The client persists its
 * seq and re-sends a final status after a restart, so a report lost here is sent again then.
 */
import { updateNotifySchema, type UpdateNotify, type UpdateStatus } from '../contracts/update-messages.ts';
import type { Timers } from '../infra/timers.ts';
import { parseJsonPayload } from './inbound.ts';
import type { AgentLogger } from './types.ts';
import { readBody, type HttpGet } from './update/transport.ts';
import type { UpdateClient } from './update/types.ts';

export const UPDATE_LINK_DEFAULTS = {
  /** The default: a pull every 6 hours. */
  pollIntervalS: 6 * 60 * 60,
  /** Each wait is the interval ± this fraction, so a fleet that rebooted together spreads out. */
  jitter: 0.25,
  /** Queued statuses kept while offline; older progress reports are dropped first. */
  maxQueued: 100,
} as const;

export interface UpdateLinkDeps {
  timers: Timers;
  random: () => number;
  logger: AgentLogger;
  httpGet: HttpGet;
  /** Publishes on `update/status`; rejects when not connected. */
  publish: (status: UpdateStatus) => Promise<void>;
  isConnected: () => boolean;
}

export interface UpdateLinkOptions {
  deviceId: string;
  /** `https://host:port` of the device API. */
  deviceHttpUrl: string;
  pollIntervalS?: number;
  jitter?: number;
}

export interface UpdateLink {
  /** The update client to hand offers to (set once it exists; reports may be queued before). */
  attach(client: UpdateClient): void;
  /** For the agent's `onUpdateNotify`. */
  onNotify(notify: UpdateNotify): void;
  /** For the update client's `report`. */
  report(status: UpdateStatus): void;
  /** For the agent's `onConnected`: flushes queued reports. */
  onConnected(): void;
  /** Pulls now and then every interval. */
  start(): void;
  stop(): void;
  /** One pull (tests, and the CLI's "check now"). */
  poll(): Promise<void>;
}

export function createUpdateLink(deps: UpdateLinkDeps, options: UpdateLinkOptions): UpdateLink {
  const intervalMs = (options.pollIntervalS ?? UPDATE_LINK_DEFAULTS.pollIntervalS) * 1000;
  const jitter = options.jitter ?? UPDATE_LINK_DEFAULTS.jitter;
  const { logger } = deps;
  const { deviceId } = options;
  let client: UpdateClient | undefined;
  let etag: string | undefined;
  let timer: unknown;
  let running = false;
  let flushing = false;
  const queue: UpdateStatus[] = [];

  function hand(offer: UpdateNotify['offer']): void {
    if (!client) return;
    client.offer(offer).catch((err: unknown) => {
      logger.warn({ deviceId, err: (err as Error).message }, 'update offer not handled');
    });
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0 && deps.isConnected()) {
        const next = queue[0] as UpdateStatus;
        try {
          await deps.publish(next);
          queue.shift();
        } catch {
          return; // the connection dropped; the next connect flushes again
        }
      }
    } finally {
      flushing = false;
    }
  }

  async function poll(): Promise<void> {
    const res = await deps.httpGet(`${options.deviceHttpUrl}/device/v1/update`, {
      headers: etag ? { 'if-none-match': etag } : {},
    });
    if (res.statusCode === 304) {
      res.resume();
      return;
    }
    const body = await readBody(res, 16 * 1024);
    if (res.statusCode !== 200) {
      throw new Error(
        `GET /device/v1/update answered ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`,
      );
    }
    const parsed = parseJsonPayload(updateNotifySchema, body);
    if (!parsed.ok) throw new Error(`invalid update offer from the server: ${parsed.reason}`);
    const tag = res.headers.etag;
    etag = typeof tag === 'string' ? tag : undefined;
    hand(parsed.value.offer);
  }

  function schedule(delayMs: number): void {
    if (!running) return;
    timer = deps.timers.setTimeout(() => {
      poll()
        .catch((err: unknown) =>
          logger.info({ deviceId, err: (err as Error).message }, 'update check failed'),
        )
        .finally(() => schedule(intervalMs * (1 + jitter * (2 * deps.random() - 1))));
    }, delayMs);
  }

  return {
    attach(c) {
      client = c;
    },
    onNotify(notify) {
      hand(notify.offer);
    },
    report(status) {
      // Progress reports are the ones worth dropping when a long offline period fills the queue.
      if (queue.length >= UPDATE_LINK_DEFAULTS.maxQueued) {
        const progressAt = queue.findIndex((s) => s.state === 'downloading');
        queue.splice(progressAt >= 0 ? progressAt : 0, 1);
      }
      queue.push(status);
      void flush();
    },
    onConnected() {
      void flush();
    },
    start() {
      if (running) return;
      running = true;
      // The first check comes soon but spread out, so a fleet restarted together does not pull at once.
      schedule(Math.min(intervalMs, 60_000) * deps.random());
    },
    stop() {
      running = false;
      if (timer !== undefined) deps.timers.clearTimeout(timer);
      timer = undefined;
    },
    poll,
  };
}
