/**
 * The live stream over real HTTP: the first event at connect, one computation per scope and
 * interval shared by every client, keepalive comments, streams ended on stop (and a whole server
 * stopping with an open stream does not hang).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createHttpServer } from '../../src/api/http-server.ts';
import { createDeviceScope } from '../../src/api/device-scope.ts';
import { dashboardRoutes } from '../../src/api/routes/dashboard.ts';
import { createLiveHub, type LiveHub } from '../../src/dashboard/live-hub.ts';
import type { DashboardOverview } from '../../src/dashboard/overview-schema.ts';
import type { OverviewScope, OverviewService } from '../../src/dashboard/overview-service.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { createServerFixture } from '../helpers/server-fixture.ts';

const INTERVAL_MS = 300;
const KEEPALIVE_MS = 100;

/** A stream reader collecting text until a condition holds (or failing after `timeoutMs`). */
async function openStream(url: string) {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  assert.equal(response.headers.get('cache-control'), 'no-cache');
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let ended = false;
  const until = async (done: (text: string) => boolean, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (!done(text)) {
      if (ended) throw new Error(`stream ended before the condition held: ${text.slice(0, 300)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out; got: ${text.slice(0, 300)}`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), remaining);
        }),
      ]);
      clearTimeout(timer);
      if (chunk === 'timeout') continue;
      if (chunk.done) ended = true;
      else text += decoder.decode(chunk.value, { stream: true });
    }
    return text;
  };
  return {
    until,
    /** Resolves when the server ends the stream. */
    ended: () => until(() => ended),
    text: () => text,
    cancel: () => reader.cancel(),
  };
}

const count = (text: string, what: string): number => text.split(what).length - 1;
const events = (text: string): DashboardOverview[] =>
  [...text.matchAll(/^event: overview\ndata: (.*)$/gm)].map(
    (m) => JSON.parse(m[1] ?? '') as DashboardOverview,
  );

function fakeOverview(atMs: number, where: string | undefined): DashboardOverview {
  return { atMs, fleet: { scope: { group: null, where: where ?? null } } } as unknown as DashboardOverview;
}

describe('dashboard live stream over HTTP', () => {
  const computed: OverviewScope[] = [];
  let hub: LiveHub;
  let app: ReturnType<typeof createHttpServer>;
  let base = '';
  before(async () => {
    hub = createLiveHub(
      {
        compute: (scope) => {
          computed.push(scope);
          return Promise.resolve(fakeOverview(Date.now(), scope.where));
        },
        clock: systemClock,
        timers: systemTimers,
        logger: createLogger('silent'),
        metricsRegistry: new Registry(),
      },
      { intervalMs: INTERVAL_MS, keepaliveMs: KEEPALIVE_MS },
    );
    const scope = createDeviceScope({
      devices: {
        countDevices: () => Promise.resolve(0),
        listDevices: () => Promise.resolve({ items: [] }),
      },
      groups: { deviceQuery: () => Promise.resolve(undefined) },
      clock: systemClock,
    });
    const registry = new Registry();
    app = createHttpServer({
      logger: createLogger('silent'),
      metricsRegistry: registry,
      version: 'test',
      routes: dashboardRoutes({ overview: {} as OverviewService, live: hub, scope, clock: systemClock }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    hub.close();
    // The test's fetch clients keep their connections alive; close them rather than wait for their timeout.
    app.server.closeAllConnections();
    await app.close();
  });

  it('sends retry first, the overview at connect, then every interval, computed once for all clients', async () => {
    computed.length = 0;
    const clients = await Promise.all([1, 2, 3].map(() => openStream(`${base}/api/v1/dashboard/events`)));
    for (const client of clients) {
      const text = await client.until((t) => t.includes('event: overview'));
      assert.ok(text.startsWith('retry: 3000\n\n'), text.slice(0, 40));
    }
    assert.equal(computed.length, 1, 'three clients of one scope: one computation');
    assert.equal(hub.clients(), 3);
    for (const client of clients) await client.until((t) => count(t, 'event: overview') >= 3);
    // Each interval: one computation, the same frame for every client.
    assert.ok(computed.length >= 3 && computed.length <= 4, `${computed.length} computations`);
    const second = clients.map((client) => events(client.text())[1]?.atMs);
    assert.equal(new Set(second).size, 1, `same second event for all: ${second.join(', ')}`);
    for (const client of clients) await client.cancel();
  });

  it('sends keepalive comments', async () => {
    const client = await openStream(`${base}/api/v1/dashboard/events`);
    await client.until((t) => t.includes(': keepalive\n\n'));
    await client.cancel();
  });

  it('stops computing when nobody listens', async () => {
    const client = await openStream(`${base}/api/v1/dashboard/events`);
    await client.until((t) => t.includes('event: overview'));
    await client.cancel();
    const deadline = Date.now() + 2000;
    while (hub.clients() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(hub.clients(), 0);
    const before = computed.length;
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
    assert.equal(computed.length, before);
  });

  it('refuses query parameters with 400 (EventSource sends none)', async () => {
    const answer = await fetch(`${base}/api/v1/dashboard/events?x=1`);
    assert.equal(answer.status, 400);
  });

  it('ends open streams when the hub closes (server stop)', async () => {
    const client = await openStream(`${base}/api/v1/dashboard/events`);
    await client.until((t) => t.includes('event: overview'));
    hub.close();
    await client.ended();
    assert.equal(hub.clients(), 0);
  });
});

describe('dashboard live hub scopes', () => {
  it('computes once per distinct scope and shares it', async () => {
    const computed: Array<string | undefined> = [];
    const hub = createLiveHub(
      {
        compute: async (scope) => {
          computed.push(scope.where);
          await new Promise((r) => setTimeout(r, 10));
          return fakeOverview(Date.now(), scope.where);
        },
        clock: systemClock,
        timers: systemTimers,
        logger: createLogger('silent'),
        metricsRegistry: new Registry(),
      },
      { intervalMs: 60_000, keepaliveMs: 60_000 },
    );
    const scopes = [undefined, '(region = "eu")', undefined, '(region = "eu")', '(region = "us")'];
    const streams = await Promise.all(scopes.map((where) => hub.subscribe({ where })));
    assert.deepEqual([...computed].sort(), [undefined, '(region = "eu")', '(region = "us")'].sort());
    assert.equal(hub.clients(), 5);
    hub.close();
    // Closing the hub ends every stream.
    await Promise.all(streams.map((stream) => once(stream.resume(), 'end')));
  });

  it('answers a page with the last overview while it is younger than staleMs, and refreshes it behind', async () => {
    let nowMs = 1_000_000;
    let computations = 0;
    const hub = createLiveHub(
      {
        compute: () => {
          computations += 1;
          return Promise.resolve(fakeOverview(nowMs, undefined));
        },
        clock: { now: () => nowMs },
        timers: systemTimers,
        logger: createLogger('silent'),
        metricsRegistry: new Registry(),
      },
      { intervalMs: 5_000, keepaliveMs: 60_000, staleMs: 30_000 },
    );
    const first = await hub.overview({ where: undefined });
    assert.equal(computations, 1);
    nowMs += 2_000; // within the interval: the same answer, nothing computed
    assert.equal((await hub.overview({ where: undefined })).atMs, first.atMs);
    assert.equal(computations, 1);
    nowMs += 10_000; // stale but young enough: answered at once, recomputed behind
    assert.equal((await hub.overview({ where: undefined })).atMs, first.atMs);
    assert.equal(computations, 2);
    await new Promise((r) => setImmediate(r));
    assert.equal((await hub.overview({ where: undefined })).atMs, nowMs);
    nowMs += 60_000; // too old: waits for a fresh one
    assert.equal((await hub.overview({ where: undefined })).atMs, nowMs);
    assert.equal(computations, 3);
    hub.close();
  });

  it('rejects a subscription whose overview fails before any byte is sent', async () => {
    const hub = createLiveHub(
      {
        compute: () => Promise.reject(new Error('bad scope')),
        clock: systemClock,
        timers: systemTimers,
        logger: createLogger('silent'),
        metricsRegistry: new Registry(),
      },
      { intervalMs: 60_000, keepaliveMs: 60_000 },
    );
    await assert.rejects(hub.subscribe({ where: 'x' }), /bad scope/);
    assert.equal(hub.clients(), 0);
    hub.close();
  });
});

describe('server stop with an open dashboard stream', () => {
  it('ends the stream and stops promptly', async () => {
    const fx = await createServerFixture();
    const client = await openStream(`http://127.0.0.1:${fx.httpPort}/api/v1/dashboard/events`);
    const text = await client.until((t) => t.includes('event: overview'));
    const overview = events(text)[0];
    assert.equal(overview?.fleet.devices.total, 0);
    const metrics = await (await fetch(`http://127.0.0.1:${fx.httpPort}/metrics`)).text();
    assert.match(metrics, /^flotilla_dashboard_live_clients 1$/m);
    const startedMs = Date.now();
    await fx.close();
    await client.ended();
    assert.ok(Date.now() - startedMs < 5000, `stop took ${Date.now() - startedMs} ms`);
  });
});
