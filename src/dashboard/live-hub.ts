/**
 * The dashboard's live stream (`GET /api/v1/dashboard/events`, Server-Sent Events, see the HTML
 * Living Standard, "Server-sent events"). Clients are grouped by device scope: the overview of a
 * scope is computed once per interval and the same frame goes to every client of that scope, so a
 * hundred open dashboards cost one computation per scope. Timers run only while someone listens.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../infra/clock.ts';
import { UnavailableError } from '../infra/errors.ts';
import type { Timers } from '../infra/timers.ts';
import type { DashboardOverview } from './overview-schema.ts';
import type { OverviewScope } from './overview-service.ts';

/** Sent first: how long (ms) EventSource waits before reconnecting. */
const RETRY_MS = 3000;
/** A client that has not read this much (bytes) is too slow and is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface LiveHubDeps {
  compute(scope: OverviewScope): Promise<DashboardOverview>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metricsRegistry: Registry;
}

export interface LiveHubOptions {
  /** How often the overview is recomputed and sent (config `dashboard.liveIntervalS`). */
  intervalMs: number;
  /** How often a `: keepalive` comment goes out, so proxies keep an idle stream open. */
  keepaliveMs: number;
  /**
   * `overview()` may answer with an overview up to this old (and refresh it in the background; the
   * live stream delivers the fresh one): a page's first paint does not wait for the computation.
   * Default: `intervalMs` (never stale).
   */
  staleMs?: number;
}

interface Computed {
  atMs: number;
  overview: DashboardOverview;
  frame: string;
}

interface Channel {
  scope: OverviewScope;
  clients: Set<PassThrough>;
  latest?: Computed;
  inflight?: Promise<Computed>;
}

const overviewFrame = (overview: DashboardOverview): string =>
  `event: overview\ndata: ${JSON.stringify(overview)}\n\n`;
const failedFrame = `event: overview-failed\ndata: ${JSON.stringify({ message: 'the overview could not be computed; retrying' })}\n\n`;

export function createLiveHub(deps: LiveHubDeps, options: LiveHubOptions) {
  const { clock, timers, logger } = deps;
  const channels = new Map<string, Channel>();
  let handles: { tick: unknown; keepalive: unknown } | undefined;
  let closed = false;

  const clientCount = (): number => [...channels.values()].reduce((sum, c) => sum + c.clients.size, 0);
  new Gauge({
    name: 'flotilla_dashboard_live_clients',
    help: 'Open dashboard live streams (GET /api/v1/dashboard/events)',
    registers: [deps.metricsRegistry],
    collect() {
      this.set(clientCount());
    },
  });

  const keyOf = (scope: OverviewScope): string => scope.where ?? '';

  function refresh(channel: Channel): Promise<Computed> {
    channel.inflight ??= deps
      .compute(channel.scope)
      .then((overview) => {
        channel.latest = { atMs: clock.now(), overview, frame: overviewFrame(overview) };
        return channel.latest;
      })
      .finally(() => {
        channel.inflight = undefined;
      });
    return channel.inflight;
  }

  /** This interval's overview of the channel: computed by whoever asked first. */
  function current(channel: Channel): Promise<Computed> {
    const latest = channel.latest;
    if (latest !== undefined && clock.now() - latest.atMs < options.intervalMs)
      return Promise.resolve(latest);
    return refresh(channel);
  }

  /**
   * What a new page or stream gets at once: this interval's overview, or one up to `staleMs` old
   * while a fresh one is computed behind (and then sent to the channel's streams).
   */
  function answer(channel: Channel): Promise<Computed> {
    const latest = channel.latest;
    const ageMs = latest === undefined ? Infinity : clock.now() - latest.atMs;
    if (latest === undefined || ageMs < options.intervalMs || ageMs >= (options.staleMs ?? 0))
      return current(channel);
    if (channel.inflight === undefined)
      refresh(channel).then(
        ({ frame }) => {
          for (const client of channel.clients) send(client, frame);
        },
        (err: unknown) =>
          logger.error({ err, scope: channel.scope.where ?? null }, 'dashboard overview failed'),
      );
    return Promise.resolve(latest);
  }

  function channelOf(scope: OverviewScope): { key: string; channel: Channel } {
    const key = keyOf(scope);
    let channel = channels.get(key);
    if (channel === undefined) {
      channel = { scope, clients: new Set() };
      channels.set(key, channel);
    }
    return { key, channel };
  }

  function send(stream: PassThrough, text: string): void {
    if (stream.destroyed) return;
    if (stream.writableLength > MAX_BUFFERED_BYTES) stream.destroy();
    else stream.write(text);
  }

  function tick(): void {
    for (const channel of channels.values()) {
      if (channel.clients.size === 0) continue;
      refresh(channel)
        .then(({ frame }) => {
          for (const client of channel.clients) send(client, frame);
        })
        .catch((err: unknown) => {
          logger.error({ err, scope: channel.scope.where ?? null }, 'dashboard overview failed');
          for (const client of channel.clients) send(client, failedFrame);
        });
    }
  }

  function startTimers(): void {
    if (handles !== undefined) return;
    handles = {
      tick: timers.setInterval(tick, options.intervalMs),
      keepalive: timers.setInterval(() => {
        for (const channel of channels.values())
          for (const client of channel.clients) send(client, ': keepalive\n\n');
      }, options.keepaliveMs),
    };
  }

  function stopTimers(): void {
    if (handles === undefined) return;
    timers.clearInterval(handles.tick);
    timers.clearInterval(handles.keepalive);
    handles = undefined;
  }

  function remove(key: string, channel: Channel, stream: PassThrough): void {
    channel.clients.delete(stream);
    if (channel.clients.size === 0 && channels.get(key) === channel) channels.delete(key);
    if (clientCount() === 0) stopTimers();
  }

  return {
    /**
     * A new client of `scope`: the stream starts with `retry:` and this interval's overview.
     * Rejects (ValidationError for a bad scope query) before any byte is sent.
     */
    async subscribe(scope: OverviewScope): Promise<Readable> {
      if (closed) throw new UnavailableError('the server is stopping');
      const { key, channel } = channelOf(scope);
      let frame: string;
      try {
        frame = (await answer(channel)).frame;
      } catch (error) {
        if (channel.clients.size === 0 && channels.get(key) === channel) channels.delete(key);
        throw error;
      }
      if (closed) throw new UnavailableError('the server is stopping');
      const stream = new PassThrough();
      stream.write(`retry: ${RETRY_MS}\n\n`);
      stream.write(frame);
      const joined = channel;
      joined.clients.add(stream);
      stream.on('close', () => remove(key, joined, stream));
      startTimers();
      return stream;
    },

    /**
     * This interval's overview of `scope` for `GET /api/v1/dashboard/overview`: the page's first
     * request and its stream's first frame share one computation.
     */
    async overview(scope: OverviewScope): Promise<DashboardOverview> {
      if (closed) throw new UnavailableError('the server is stopping');
      // The channel stays (one per scope asked for), so the stream opened next reuses the answer.
      return (await answer(channelOf(scope).channel)).overview;
    },

    /** Open streams. */
    clients: clientCount,

    /** Ends every stream (server stop: open streams must not hold the HTTP server open). */
    close(): void {
      closed = true;
      stopTimers();
      for (const channel of channels.values()) for (const client of channel.clients) client.end();
      channels.clear();
    },
  };
}

export type LiveHub = ReturnType<typeof createLiveHub>;
