// The update link between the agent and the update client: statuses queued while offline and
// sent in order, pulls with If-None-Match, the jittered pull schedule. Fake time, a real HTTP server.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { UpdateStatus } from '../../src/contracts/update-messages.ts';
import { createUpdateLink } from '../../src/agent/update-link.ts';
import { createHttpGet } from '../../src/agent/update/transport.ts';
import type { UpdateClient } from '../../src/agent/update/types.ts';
import { fakeTime } from '../helpers/fake-time.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const logger = { debug: noop, info: noop, warn: noop, error: noop };
const offer = {
  deploymentId: 'dep-1',
  version: '2.0.0',
  target: 'pump_2.0.0.img',
  installNow: true,
  force: false,
};

function status(seq: number, state: UpdateStatus['state'] = 'downloading'): UpdateStatus {
  return { deploymentId: 'dep-1', version: '2.0.0', state, seq };
}

/** A client that records the offers it is handed. */
function recordingClient(offers: unknown[]): UpdateClient {
  const unused = () => Promise.reject(new Error('not used'));
  return {
    offer: (o) => {
      offers.push(o);
      return Promise.resolve();
    },
    install: unused,
    resume: unused,
    resumeAfterBoot: unused,
    bootedVersion: unused,
    current: () => undefined,
  };
}

describe('update link', () => {
  let server: Server;
  let url = '';
  const requests: Array<string | undefined> = [];
  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.headers['if-none-match']);
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304).end();
      else
        res
          .writeHead(200, { etag: '"v1"', 'content-type': 'application/json' })
          .end(JSON.stringify({ offer }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('queues statuses while offline and sends them in order on connect', async () => {
    const sent: number[] = [];
    let connected = false;
    const time = fakeTime();
    const link = createUpdateLink(
      {
        timers: time.timers,
        random: () => 0.5,
        logger,
        httpGet: createHttpGet(undefined),
        publish: (s) => {
          if (!connected) return Promise.reject(new Error('offline'));
          sent.push(s.seq);
          return Promise.resolve();
        },
        isConnected: () => connected,
      },
      { deviceId: 'pump-1', deviceHttpUrl: url },
    );
    link.report(status(1));
    link.report(status(2, 'downloaded'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, []);
    connected = true;
    link.onConnected();
    await waitFor(() => sent.length === 2);
    assert.deepEqual(sent, [1, 2]);
  });

  it('keeps the newest statuses when a long offline period fills the queue, dropping progress first', async () => {
    const sent: UpdateStatus[] = [];
    let connected = false;
    const time = fakeTime();
    const link = createUpdateLink(
      {
        timers: time.timers,
        random: () => 0.5,
        logger,
        httpGet: createHttpGet(undefined),
        publish: (s) =>
          connected ? Promise.resolve(void sent.push(s)) : Promise.reject(new Error('offline')),
        isConnected: () => connected,
      },
      { deviceId: 'pump-1', deviceHttpUrl: url },
    );
    link.report(status(1, 'rebooting'));
    for (let seq = 2; seq <= 150; seq++) link.report(status(seq));
    link.report(status(151, 'success'));
    connected = true;
    link.onConnected();
    await waitFor(() => sent.length === 100);
    assert.equal(sent[0]?.state, 'rebooting', 'a state change survives');
    assert.equal(sent.at(-1)?.state, 'success');
    assert.ok(
      sent.every((s, i) => i === 0 || s.seq > (sent[i - 1]?.seq ?? 0)),
      'still in order',
    );
  });

  it('pulls soon after start, then every interval ± jitter, with If-None-Match', async () => {
    const offers: unknown[] = [];
    const time = fakeTime();
    const link = createUpdateLink(
      {
        timers: time.timers,
        random: () => 1, // the latest point of every window
        logger,
        httpGet: createHttpGet(undefined),
        publish: () => Promise.resolve(),
        isConnected: () => true,
      },
      { deviceId: 'pump-1', deviceHttpUrl: url, pollIntervalS: 3600, jitter: 0.25 },
    );
    link.attach(recordingClient(offers));
    requests.length = 0;
    link.start();
    assert.deepEqual(time.pendingTimeouts(), [60_000], 'first pull within a minute');
    time.advance(60_000);
    await waitFor(() => offers.length === 1 && time.pendingTimeouts().length === 1);
    assert.deepEqual(offers, [offer]);
    assert.deepEqual(time.pendingTimeouts(), [3600 * 1000 * 1.25], 'interval + 25 %');
    time.advance(3600 * 1000 * 1.25);
    await waitFor(() => requests.length === 2 && time.pendingTimeouts().length === 1);
    assert.deepEqual(requests, [undefined, '"v1"']);
    assert.equal(offers.length, 1, 'a 304 hands nothing to the client');
    link.stop();
    assert.deepEqual(time.pendingTimeouts(), []);
  });
});
