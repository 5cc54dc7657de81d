/**
 * The escalation engine against a real store (run on SQLite and PostgreSQL): chain steps at their
 * times with a hand-advanced clock, stopped by acknowledgement, a severity rise, resolved
 * notifications, restarts, independent channels, retries, and rate limits with digests.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { alertRaiseSchema } from '../../src/alerts/alert.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { waitFor } from '../helpers/wait.ts';
import { buildHarness, minute, raiseInput, sent, t0, type Harness } from './escalation-harness.ts';

export function escalationContract(makeStores: () => Promise<Stores>): void {
  describe('escalation engine', () => {
    let stores: Stores;
    let h: Harness;
    beforeEach(async () => {
      stores = await makeStores();
      h = buildHarness(stores);
    });
    afterEach(async () => {
      await stores.close();
    });

    it('sends each step at its time and stops on acknowledgement', async () => {
      const id = await h.raise();
      await h.step(0);
      assert.deepEqual(sent(h.channels.team, id), ['opened warning:0']);
      assert.equal(h.channels.team.received[0]?.atMs, t0);
      await h.step(29 * minute);
      assert.deepEqual(sent(h.channels.oncall), []);
      await h.step(minute);
      assert.deepEqual(sent(h.channels.oncall, id), ['escalated warning:1']);
      assert.equal(h.channels.oncall.received[0]?.atMs, t0 + 30 * minute);

      // A second alert acknowledged within the 30 minutes never reaches on-call.
      const acked = await h.raise({ subject: { kind: 'device', id: 'd2' } });
      await h.step(minute);
      assert.deepEqual(sent(h.channels.team, acked), ['opened warning:0']);
      await h.alerts.acknowledge(acked, 'alice');
      await h.step(40 * minute);
      assert.deepEqual(sent(h.channels.oncall, acked), []);
      const ledger = await h.engine.notificationsFor(acked);
      assert.deepEqual(
        ledger.map((n) => `${n.channel} ${n.step} ${n.state}`),
        ['team warning:0 sent', 'oncall warning:1 cancelled'],
      );
      // Nothing is sent twice however often it ticks.
      await h.step(minute);
      assert.equal(h.channels.team.received.length, 2);
      assert.equal(h.channels.oncall.received.length, 1);
    });

    it('starts the critical chain when the severity rises and drops the rest of the lower one', async () => {
      const id = await h.raise();
      await h.step(0);
      await h.step(5 * minute);
      await h.alerts.raise(raiseInput({ severity: 'critical', title: 'battery below 3 %' }));
      await h.step(10_000);
      assert.deepEqual(sent(h.channels.team, id), ['opened warning:0', 'escalated critical:0']);
      assert.deepEqual(sent(h.channels.oncall, id), ['escalated critical:0']);
      assert.equal(h.channels.oncall.received[0]?.message.alert?.severity, 'critical');
      await h.step(30 * minute);
      assert.equal(h.channels.oncall.received.length, 1, 'the warning chain’s on-call step was superseded');
      // Back to warning: the critical chain stays, no warning chain restarts.
      await h.alerts.raise(raiseInput());
      await h.step(31 * minute);
      assert.equal(h.channels.team.received.length, 2);
      assert.equal(h.channels.oncall.received.length, 1);
    });

    it('tells the channels that were notified when the alert resolves', async () => {
      const id = await h.raise();
      await h.step(0);
      await h.alerts.resolve(id, 'bob', 'replaced');
      await h.step(1000);
      assert.deepEqual(sent(h.channels.team, id), ['opened warning:0', 'resolved resolved']);
      assert.equal(h.channels.team.received[1]?.message.alert?.state, 'resolved');
      assert.equal(h.channels.team.received[1]?.message.alert?.resolvedBy, 'bob');
      // On-call was never told of it, so it hears nothing of its resolution; nothing more follows.
      await h.step(60 * minute);
      assert.deepEqual(sent(h.channels.oncall, id), []);
      assert.equal(h.channels.team.received.length, 2);

      // Cleared automatically (the raiser's clear) works the same.
      const second = await h.raise({ subject: { kind: 'device', id: 'd9' } });
      await h.step(0);
      await h.alerts.clear('battery-low', { kind: 'device', id: 'd9' }, 'battery back to 80 %');
      await h.step(1000);
      assert.deepEqual(sent(h.channels.team, second), ['opened warning:0', 'resolved resolved']);
    });

    it('neither resends nor loses a step across a restart, and retries a cut-off attempt with the same delivery id', async () => {
      const id = await h.raise();
      await h.step(0);
      await h.engine.stop();
      await h.restart();
      await h.step(10 * minute);
      assert.deepEqual(sent(h.channels.team, id), ['opened warning:0']);
      // Down across the step's time: it goes out at the first tick after the restart.
      await h.engine.stop();
      h.time.advance(25 * minute);
      await h.restart();
      await h.step(0);
      assert.deepEqual(sent(h.channels.oncall, id), ['escalated warning:1']);

      // A crash mid-delivery: the claimed attempt is retried after its lease, same delivery id.
      const other = await h.raise({ subject: { kind: 'device', id: 'd3' } });
      h.channels.team.behaviour = 'hang';
      await h.step(0, ['oncall', 'log']);
      await waitFor(() => h.channels.team.attempts.at(-1)?.message.alert?.id === other, {
        what: 'the attempt to start',
      });
      const firstDelivery = h.channels.team.attempts.at(-1)?.message.deliveryId;
      await h.restart(); // the old engine is abandoned with its attempt in flight
      h.channels.team.behaviour = 'ok';
      await h.step(30_000);
      assert.deepEqual(sent(h.channels.team, other), [], 'not before the lease ends');
      await h.step(2 * minute);
      assert.deepEqual(sent(h.channels.team, other), ['opened warning:0']);
      assert.equal(h.channels.team.received.at(-1)?.message.deliveryId, firstDelivery);
    });

    it('keeps channels independent: a hanging channel does not hold back the others', async () => {
      h.channels.team.behaviour = 'hang';
      const id = await h.raise({ severity: 'critical' });
      await h.raise({ rule: 'disk-full', severity: 'info' });
      await h.step(0, ['oncall', 'log']);
      assert.deepEqual(sent(h.channels.oncall, id), ['opened critical:0']);
      assert.equal(h.channels.log.received.length, 1);
      assert.equal(h.channels.team.received.length, 0);
      // The hanging attempt times out (10 s), is retried with backoff, and goes through.
      await waitFor(() => h.channels.team.attempts.length === 1, { what: 'the hanging attempt' });
      h.time.advance(10_000);
      await h.engine.settled('team');
      h.channels.team.behaviour = 'ok';
      const [timedOut] = await h.engine.notificationsFor(id);
      assert.equal(timedOut?.state, 'pending');
      assert.equal(timedOut?.attempts, 1);
      assert.match(timedOut?.lastError ?? '', /timed out/);
      await h.step(2000);
      assert.deepEqual(sent(h.channels.team, id), ['opened critical:0']);
    });

    it('retries with backoff, gives up after maxAttempts, and does not retry a refusal', async () => {
      h.channels.team.behaviour = 'fail';
      const id = await h.raise();
      await h.step(0);
      // Backoff 1 s then 2 s (jitter fixed at the middle: 750 ms, 1500 ms).
      await h.step(700);
      assert.equal(h.channels.team.attempts.length, 1);
      await h.step(100);
      assert.equal(h.channels.team.attempts.length, 2);
      await h.step(1500);
      assert.equal(h.channels.team.attempts.length, 3);
      await h.step(60 * 60_000);
      assert.equal(h.channels.team.attempts.length, 3, 'maxAttempts is 3');
      const [failed] = await h.engine.notificationsFor(id);
      assert.equal(failed?.state, 'failed');
      assert.equal(failed?.attempts, 3);
      assert.equal(new Set(h.channels.team.attempts.map((a) => a.message.deliveryId)).size, 1);

      h.channels.team.behaviour = 'reject';
      const refused = await h.raise({ subject: { kind: 'device', id: 'd4' } });
      await h.step(0);
      await h.step(60_000);
      const [record] = await h.engine.notificationsFor(refused);
      assert.equal(record?.state, 'failed');
      assert.equal(record?.attempts, 1);
    });

    it('keeps one ledger row per alert, step, channel and kind, and counts the queue per channel', async () => {
      const id = await h.raise();
      const row = { alertId: id, step: 'warning:0', channel: 'team', kind: 'opened' as const, dueAtMs: t0 };
      assert.equal(
        await stores.notifications.schedule([row, { ...row, step: 'warning:1', dueAtMs: t0 + 1 }], []),
        2,
      );
      assert.equal(await stores.notifications.schedule([row], []), 0);
      assert.deepEqual([...(await stores.notifications.startedChains()).entries()], [[id, ['warning']]]);
      assert.deepEqual(await stores.notifications.countQueued(), [{ channel: 'team', count: 2 }]);
      await h.step(0);
      // The chain had started (by hand), so the engine added nothing: warning:1 is still due.
      assert.deepEqual(await stores.notifications.countQueued(), [{ channel: 'team', count: 1 }]);
      await h.alerts.resolve(id, 'carol');
      await h.step(0);
      assert.deepEqual(await stores.notifications.countQueued(), []);
      assert.deepEqual([...(await stores.notifications.startedChains()).keys()], []);
    });

    it('groups a burst past the rate limit into one digest that counts every alert', async () => {
      h = buildHarness(stores, undefined, { log: { rateLimit: { max: 10, windowS: 60, digestListMax: 5 } } });
      for (let i = 0; i < 1000; i++)
        await stores.alerts.raise(
          alertRaiseSchema.parse(raiseInput({ severity: 'info', subject: { kind: 'device', id: `d-${i}` } })),
          `al-${String(i).padStart(4, '0')}`,
          t0,
        );
      await h.step(0);
      assert.equal(h.channels.log.received.length, 10);
      await h.step(30_000);
      assert.equal(h.channels.log.received.length, 10, 'the window is full');
      await h.step(30_000);
      assert.equal(h.channels.log.received.length, 11);
      const digest = h.channels.log.received[10]?.message.digest;
      assert.equal(digest?.count, 990);
      assert.equal(digest?.alerts.length, 5);
      assert.equal(h.channels.log.received[10]?.message.kind, 'digest');
      await h.step(5 * minute);
      assert.equal(h.channels.log.received.length, 11, 'nothing left over');
    });
  });
}
