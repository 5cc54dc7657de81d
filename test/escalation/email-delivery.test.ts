/**
 * Email notifications through a real SMTP receiver (smtp-server on a free port): the message
 * arrives with the alert in subject and body and the delivery id header; a 550 refusal is final,
 * a 451 is retried.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { createAlertService, type AlertService } from '../../src/alerts/alert-service.ts';
import { createEmailChannel } from '../../src/alerts/channels/email-channel.ts';
import { alertsConfigSchema } from '../../src/alerts/escalation/escalation-config.ts';
import {
  createEscalationEngine,
  type EscalationEngine,
} from '../../src/alerts/escalation/escalation-engine.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { freePort } from '../helpers/wait.ts';
import { raiseInput, t0 } from './escalation-harness.ts';

const files = tempDatabaseFiles('email');

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

describe('email channel to a real SMTP receiver', () => {
  let stores: Stores;
  let time: FakeTime;
  let engine: EscalationEngine;
  let alerts: AlertService;
  let smtp: SMTPServer;
  let mails: Mail[];
  /** SMTP reply codes for the next RCPT TO commands; then accepted. */
  let refusals: number[];

  before(() => files.open());
  after(() => files.close());

  beforeEach(async () => {
    mails = [];
    refusals = [];
    const port = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        const code = refusals.shift();
        if (code === undefined) return callback();
        const error = Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try later'), {
          responseCode: code,
        });
        callback(error);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            // Headers unfolded (RFC 5322 §2.2.3) so each is one line.
            raw: Buffer.concat(chunks)
              .toString('utf8')
              .replace(/\r\n[ \t]+/g, ' '),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve));

    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    time = fakeTime(t0);
    const config = alertsConfigSchema.parse({
      channels: {
        oncall: {
          type: 'email',
          host: '127.0.0.1',
          port,
          requireTls: false,
          from: 'flotilla@example.com',
          to: ['oncall@example.com'],
          maxAttempts: 3,
        },
      },
      escalation: { policies: { critical: [{ afterS: 0, channels: ['oncall'] }] } },
    });
    const oncall = config.channels['oncall'];
    assert.equal(oncall?.type, 'email');
    const logger = pino({ level: 'silent' });
    engine = createEscalationEngine(
      {
        notifications: stores.notifications,
        alerts: stores.alerts,
        channels: [createEmailChannel('oncall', oncall, oncall)],
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
    await engine.stop();
    await stores.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  const tickAfter = async (ms: number): Promise<void> => {
    time.advance(ms);
    await engine.tick();
    await engine.settled();
  };

  it('delivers the alert by email', async () => {
    const { alert } = await alerts.raise(
      raiseInput({ severity: 'critical', rule: 'rollout.gate-failed', title: 'rollout r1 paused' }),
    );
    await tickAfter(0);
    assert.equal(mails.length, 1);
    const mail = mails[0];
    assert.equal(mail?.from, 'flotilla@example.com');
    assert.deepEqual(mail?.to, ['oncall@example.com']);
    assert.match(mail?.raw ?? '', /Subject: \[flotilla\] CRITICAL: rollout r1 paused - device d1\r\n/);
    assert.match(mail?.raw ?? '', /X-Flotilla-Delivery: [0-9a-f]{32}/);
    assert.match(mail?.raw ?? '', new RegExp(`https://flotilla.example.com/api/v1/alerts/${alert.id}`));
    assert.equal((await engine.notificationsFor(alert.id))[0]?.state, 'sent');
  });

  it('retries a 451 and gives up at once on a 550', async () => {
    refusals = [451];
    const { alert } = await alerts.raise(raiseInput({ severity: 'critical' }));
    await tickAfter(0);
    assert.equal(mails.length, 0);
    assert.equal((await engine.notificationsFor(alert.id))[0]?.state, 'pending');
    await tickAfter(2000);
    assert.equal(mails.length, 1);

    refusals = [550];
    const refused = await alerts.raise(
      raiseInput({ severity: 'critical', subject: { kind: 'device', id: 'd2' } }),
    );
    await tickAfter(0);
    await tickAfter(60_000);
    const [record] = await engine.notificationsFor(refused.alert.id);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.attempts, 1);
    assert.equal(mails.length, 1);
  });
});
