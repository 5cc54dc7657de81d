/**
 * Escalation inside the real server: an alert raised in the store reaches a configured signed
 * webhook (a real HTTP receiver), shows in GET /api/v1/alerts/{id}/notifications and on /metrics.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { alertRaiseSchema } from '../../src/alerts/alert.ts';
import { verifyWebhook } from '../../src/alerts/channels/webhook-signature.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { freePort, waitFor } from '../helpers/wait.ts';

const SECRET = 'server-e2e-secret-0123';
const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

function flotilla(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, stdout) =>
      err ? reject(new Error(`flotilla ${args.join(' ')}: ${err.message}`)) : resolve(stdout),
    );
  });
}

describe('escalation in the server', () => {
  let fx: ServerFixture;
  let receiver: Server;
  const bodies: Array<{ valid: boolean; body: { alert: { id: string } | null } }> = [];

  before(async () => {
    const port = await freePort();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const valid = verifyWebhook(
          SECRET,
          String(req.headers['x-flotilla-timestamp']),
          raw,
          String(req.headers['x-flotilla-signature']),
        );
        bodies.push({ valid, body: JSON.parse(raw) as { alert: { id: string } | null } });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    fx = await createServerFixture({
      alerts: {
        channels: { team: { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: SECRET } },
        escalation: {
          tickIntervalS: 0.05,
          policies: { critical: [{ afterS: 0, channels: ['team', 'log'] }] },
        },
      },
    });
  });
  after(async () => {
    await fx?.close();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('delivers, and reports the notification state in the API and on /metrics', async () => {
    const { alert } = await fx.server().stores.alerts.raise(
      alertRaiseSchema.parse({
        rule: 'rollout.gate-failed',
        severity: 'critical',
        subject: { kind: 'rollout', id: 'r1' },
        title: 'rollout r1 paused',
      }),
      'al-e2e-1',
      Date.now(),
    );
    await waitFor(() => bodies.length > 0, { what: 'the webhook' });
    assert.equal(bodies[0]?.valid, true);
    assert.equal(bodies[0]?.body.alert?.id, alert.id);

    type Items = { items: Array<{ channel: string; state: string; kind: string; step: string }> };
    let listed: Items = { items: [] };
    await waitFor(
      async () => {
        listed = (await fx.api<Items>(`/api/v1/alerts/${alert.id}/notifications`)).body;
        return listed.items.length === 2 && listed.items.every((n) => n.state === 'sent');
      },
      { what: 'both notifications sent' },
    );
    assert.deepEqual(listed.items.map((n) => `${n.channel} ${n.kind} ${n.step}`).sort(), [
      'log opened critical:0',
      'team opened critical:0',
    ]);
    assert.equal((await fx.api(`/api/v1/alerts/nope/notifications`)).status, 404);

    const table = await flotilla([
      'alerts',
      'notifications',
      alert.id,
      '--server',
      `http://127.0.0.1:${fx.httpPort}`,
    ]);
    assert.match(table, /critical:0\s+team\s+opened\s+sent\s+1/);

    const metrics = await (await fetch(`http://127.0.0.1:${fx.httpPort}/metrics`)).text();
    assert.match(metrics, /flotilla_notifications_total\{channel="team",outcome="sent"\} 1/);
    assert.match(metrics, /flotilla_notification_queue_depth\{channel="team"\} 0/);
    assert.match(metrics, /flotilla_notification_delivery_duration_seconds_count\{channel="team"\} 1/);
  });
});
