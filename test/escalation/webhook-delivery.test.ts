/**
 * Signed webhooks to a real HTTP receiver (node:http on a free port): the receiver checks the
 * HMAC on its own with crypto.createHmac; retries after 500s, a timeout and a 429 with
 * Retry-After keep the delivery id; a 4xx is not retried; a hanging webhook does not hold back
 * the log channel. Time is the injected clock; HTTP is real.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { createAlertService, type AlertService } from '../../src/alerts/alert-service.ts';
import { createLogChannel } from '../../src/alerts/channels/log-channel.ts';
import type { NotificationMessage } from '../../src/alerts/channels/message.ts';
import { createWebhookChannel } from '../../src/alerts/channels/webhook-channel.ts';
import { alertsConfigSchema } from '../../src/alerts/escalation/escalation-config.ts';
import {
  createEscalationEngine,
  type EscalationEngine,
} from '../../src/alerts/escalation/escalation-engine.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { freePort, waitFor } from '../helpers/wait.ts';
import { raiseInput, t0 } from './escalation-harness.ts';

const SECRET = 'receiver-shared-secret-42';
const files = tempDatabaseFiles('webhook');

interface Delivery {
  signatureValid: boolean;
  timestamp: string;
  deliveryId: string;
  body: NotificationMessage;
}

/** How the receiver answers the next requests, in order; then 200. `hang` never answers. */
type Answer = number | 'hang' | { status: number; retryAfter: string };

class Receiver {
  readonly deliveries: Delivery[] = [];
  answers: Answer[] = [];
  readonly #hanging: ServerResponse[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const port = await freePort();
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${port}/hooks/flotilla`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const timestamp = String(req.headers['x-flotilla-timestamp']);
    // Verified independently of the code under test: HMAC-SHA256 over "<timestamp>.<body>".
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${raw}`).digest('hex')}`;
    this.deliveries.push({
      signatureValid: req.headers['x-flotilla-signature'] === expected,
      timestamp,
      deliveryId: String(req.headers['x-flotilla-delivery']),
      body: JSON.parse(raw) as NotificationMessage,
    });
    const answer = this.answers.shift() ?? 200;
    if (answer === 'hang') {
      this.#hanging.push(res);
      return;
    }
    if (typeof answer === 'number') res.writeHead(answer).end();
    else res.writeHead(answer.status, { 'retry-after': answer.retryAfter }).end();
  }

  async stop(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

describe('webhook channel to a real HTTP receiver', () => {
  let stores: Stores;
  let time: FakeTime;
  let receiver: Receiver;
  let engine: EscalationEngine;
  let alerts: AlertService;
  let logLines: Array<{ msg: string; alert?: { id: string } }>;

  before(() => files.open());
  after(() => files.close());

  beforeEach(async () => {
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    time = fakeTime(t0);
    receiver = new Receiver();
    await receiver.start();
    logLines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString('utf8')) as { msg: string });
        done();
      },
    });
    const config = alertsConfigSchema.parse({
      channels: {
        ops: {
          type: 'webhook',
          url: receiver.url,
          secret: SECRET,
          timeoutMs: 5000,
          maxAttempts: 4,
          backoff: { initialMs: 1000, maxMs: 60_000 },
        },
      },
      escalation: { policies: { warning: [{ afterS: 0, channels: ['ops', 'log'] }] } },
    });
    const ops = config.channels['ops'];
    assert.equal(ops?.type, 'webhook');
    const logger = pino({ level: 'silent' });
    engine = createEscalationEngine(
      {
        notifications: stores.notifications,
        alerts: stores.alerts,
        channels: [
          createWebhookChannel({ name: 'ops', url: receiver.url, secret: SECRET, policy: ops }, time),
          createLogChannel(
            'log',
            { max: 100, windowS: 60, digestListMax: 10 },
            pino({ level: 'info' }, sink),
          ),
        ],
        clock: time.clock,
        timers: time.timers,
        logger,
        random: () => 0.5,
        apiUrl: () => 'https://flotilla.example.com',
      },
      config.escalation,
    );
    alerts = createAlertService({
      store: stores.alerts,
      audit: stores.provisioning,
      clock: time.clock,
      logger,
    });
  });

  afterEach(async () => {
    await receiver.stop();
    await engine.settled();
    await stores.close();
  });

  const tickAfter = async (ms: number): Promise<void> => {
    time.advance(ms);
    await engine.tick();
    await engine.settled('ops');
  };

  it('signs every delivery and retries 500s with the same delivery id until it gets through', async () => {
    receiver.answers = [500, 503];
    const { alert } = await alerts.raise(raiseInput());
    await tickAfter(0);
    assert.equal(receiver.deliveries.length, 1);
    await tickAfter(2000);
    assert.equal(receiver.deliveries.length, 2);
    await tickAfter(2000);
    assert.equal(receiver.deliveries.length, 3);
    await tickAfter(60_000);
    assert.equal(receiver.deliveries.length, 3, 'delivered: no more attempts');

    assert.ok(receiver.deliveries.every((d) => d.signatureValid));
    assert.equal(new Set(receiver.deliveries.map((d) => d.deliveryId)).size, 1);
    assert.match(receiver.deliveries[0]?.deliveryId ?? '', /^[0-9a-f]{32}$/);
    assert.deepEqual(
      receiver.deliveries.map((d) => d.timestamp),
      [t0, t0 + 2000, t0 + 4000].map((ms) => String(ms / 1000)),
    );
    const body = receiver.deliveries[2]?.body;
    assert.equal(body?.kind, 'opened');
    assert.equal(body?.step, 'warning:0');
    assert.equal(body?.alert?.id, alert.id);
    assert.equal(body?.alert?.severity, 'warning');
    assert.equal(body?.alert?.state, 'open');
    assert.deepEqual(body?.alert?.subject, { kind: 'device', id: 'd1' });
    assert.equal(body?.alert?.title, 'battery below 10 %');
    assert.deepEqual(body?.alert?.details, { value: 8 });
    assert.equal(body?.alert?.openedAt, new Date(t0).toISOString());
    assert.equal(body?.alert?.link, `https://flotilla.example.com/api/v1/alerts/${alert.id}`);
    const [record] = await engine.notificationsFor(alert.id);
    assert.equal(record?.state, 'sent');
    assert.equal(record?.attempts, 3);
  });

  it('times out a hanging receiver, retries, and meanwhile the log channel is not held back', async () => {
    receiver.answers = ['hang'];
    const { alert } = await alerts.raise(raiseInput());
    time.advance(0);
    await engine.tick();
    await engine.settled('log');
    assert.equal(
      logLines.filter((l) => l.alert?.id === alert.id).length,
      1,
      'logged while the webhook hangs',
    );
    await waitFor(() => receiver.deliveries.length === 1, { what: 'the first webhook request' });
    time.advance(5000); // the attempt's timeout
    await engine.settled('ops');
    const [timedOut] = await engine.notificationsFor(alert.id);
    assert.equal(timedOut?.state, 'pending');
    assert.match(timedOut?.lastError ?? '', /timed out/);
    await tickAfter(2000);
    assert.equal(receiver.deliveries.length, 2);
    assert.equal(receiver.deliveries[1]?.deliveryId, receiver.deliveries[0]?.deliveryId);
    assert.equal((await engine.notificationsFor(alert.id))[0]?.state, 'sent');
  });

  it('waits as long as a 429 Retry-After asks, and does not retry other 4xx', async () => {
    receiver.answers = [{ status: 429, retryAfter: '120' }];
    await alerts.raise(raiseInput());
    await tickAfter(0);
    await tickAfter(60_000);
    assert.equal(receiver.deliveries.length, 1, 'not before Retry-After');
    await tickAfter(61_000);
    assert.equal(receiver.deliveries.length, 2);

    receiver.answers = [404];
    const { alert } = await alerts.raise(raiseInput({ subject: { kind: 'device', id: 'd2' } }));
    await tickAfter(0);
    await tickAfter(10 * 60_000);
    assert.equal(receiver.deliveries.filter((d) => d.body.alert?.id === alert.id).length, 1);
    const [refused] = await engine.notificationsFor(alert.id);
    assert.equal(refused?.state, 'failed');
    assert.equal(refused?.lastError, 'webhook ops: HTTP 404');
  });
});
