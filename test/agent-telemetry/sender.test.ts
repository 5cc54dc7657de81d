/** Acks, resends and ordering of the sender, on fake time with an in-memory transport. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetryAck, TelemetryBatch } from '../../src/contracts/telemetry-messages.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { openOutbox } from '../../src/agent/telemetry/outbox.ts';
import { createSender, type TelemetryTransport } from '../../src/agent/telemetry/sender.ts';
import { fakeTime } from '../helpers/fake-time.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const logger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const ack = (seq: number, outcome: TelemetryAck['outcome'] = 'stored'): TelemetryAck => ({
  seq,
  outcome,
  accepted: 1,
  rejected: [],
});

async function setup(batches: number, maxInFlight = 2) {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-sender-'));
  dirs.push(dir);
  const outbox = await openOutbox({ dir }, logger);
  for (let i = 0; i < batches; i++) {
    await outbox.append({
      windows: [],
      events: [{ type: 'boot', atMs: 1, severity: 'info', code: `b${i}` }],
    });
  }
  const time = fakeTime(1_764_201_600_000);
  const sent: TelemetryBatch[] = [];
  let connected = true;
  const transport: TelemetryTransport = {
    maxPerSend: 1,
    ready: () => connected,
    send: (b) => {
      sent.push(...b);
      return Promise.resolve({ acks: [], final: false });
    },
  };
  const sender = createSender({ ...time, random: () => 0.5, logger }, outbox, transport, {
    ackTimeoutMs: 10_000,
    maxInFlight,
    retry: { initialMs: 1_000, maxMs: 60_000 },
  });
  return {
    outbox,
    time,
    sent,
    sender,
    setConnected: (up: boolean) => (connected = up),
    seqsSent: () => sent.map((b) => b.seq),
  };
}

describe('sender', () => {
  it('sends oldest first with a bounded number in flight; acks delete', async () => {
    const { outbox, sender, sent, seqsSent } = await setup(5, 2);
    sender.start();
    await waitFor(() => sent.length === 2, { what: 'two batches in flight' });
    assert.deepEqual(seqsSent(), [1, 2]);
    assert.equal(sender.inFlight(), 2);
    sender.ack(ack(1));
    await waitFor(() => sent.length === 3, { what: 'the third batch' });
    assert.equal(sent[2]?.seq, 3);
    sender.ack(ack(2, 'duplicate'));
    sender.ack(ack(3, 'invalid'));
    await waitFor(() => sent.length === 5, { what: 'the rest' });
    sender.ack(ack(4));
    sender.ack(ack(5));
    await waitFor(() => outbox.seqs().length === 0, { what: 'the outbox to empty' });
    assert.ok(
      sent.every((b) => typeof b.sentAtMs === 'number'),
      'sentAtMs set when sent',
    );
  });

  it('resends from the oldest after an ack timeout and a backoff', async () => {
    const { outbox, sender, sent, time, seqsSent } = await setup(3, 2);
    sender.start();
    await waitFor(() => sent.length === 2, { what: 'first sends' });
    sender.ack(ack(2)); // seq 1's ack is lost
    await waitFor(() => sent.length === 3, { what: 'seq 3' });
    time.advance(10_000); // ack timeout of seq 1 (and 3)
    assert.equal(sent.length, 3, 'paused during the backoff');
    time.advance(60_000); // past any backoff delay
    await waitFor(() => sent.length === 5, { what: 'resends' });
    assert.deepEqual(seqsSent().slice(3), [1, 3], 'resent in seq order');
    sender.ack(ack(1));
    sender.ack(ack(3));
    await waitFor(() => outbox.seqs().length === 0, { what: 'the outbox to empty' });
  });

  it('waits while disconnected and resends what was in flight on reconnect', async () => {
    const { outbox, sender, sent, setConnected, seqsSent } = await setup(2, 4);
    sender.start();
    await waitFor(() => sent.length === 2, { what: 'first sends' });
    setConnected(false);
    sender.onDisconnected();
    assert.equal(sender.inFlight(), 0);
    sender.pump();
    assert.equal(sent.length, 2, 'nothing goes out while disconnected');
    setConnected(true);
    sender.onConnected();
    await waitFor(() => sent.length === 4, { what: 'resends after reconnect' });
    assert.deepEqual(seqsSent(), [1, 2, 1, 2]);
    sender.ack(ack(1));
    sender.ack(ack(1)); // a duplicate ack changes nothing
    sender.ack(ack(2));
    await waitFor(() => outbox.seqs().length === 0, { what: 'the outbox to empty' });
  });
});
