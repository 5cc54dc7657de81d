/** The group-commit writer against a hand-driven store and fake timers: coalescing, backpressure, isolation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnavailableError } from '../../src/infra/errors.ts';
import { createLogger } from '../../src/infra/logger.ts';
import type { BatchToStore, WriteOutcome } from '../../src/store/telemetry-types.ts';
import { TelemetryWriter, type TelemetryWriterOptions } from '../../src/telemetry/telemetry-writer.ts';
import { fakeTime } from '../helpers/fake-time.ts';

interface Call {
  batches: readonly BatchToStore[];
  commit(): void;
  fail(error: unknown): void;
}

/** A store whose transactions commit only when the test says so. */
function heldStore(failWhen: (batch: BatchToStore) => boolean = () => false) {
  const calls: Call[] = [];
  const seen = new Set<string>();
  const written: string[] = [];
  return {
    calls,
    written,
    store: {
      writeBatches(batches: readonly BatchToStore[]): Promise<WriteOutcome[]> {
        return new Promise((resolve, reject) => {
          calls.push({
            batches,
            commit: () => {
              if (batches.some(failWhen)) return reject(new Error('constraint failed'));
              resolve(
                batches.map((b) => {
                  const key = `${b.deviceId}/${b.seq}`;
                  if (seen.has(key)) return 'duplicate';
                  seen.add(key);
                  written.push(key);
                  return 'stored';
                }),
              );
            },
            fail: reject,
          });
        });
      },
    },
  };
}

function batch(deviceId: string, seq: number): BatchToStore {
  return { deviceId, seq, receivedAtMs: 0, windows: [], events: [], accepted: 0, rejected: 0 };
}

const options: TelemetryWriterOptions = { maxBatchesPerWrite: 100, flushIntervalMs: 20, queueBatches: 1000 };
const logger = createLogger('silent');

/** Lets settled promises run their continuations. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function writerWith(
  store: ReturnType<typeof heldStore>['store'],
  overrides: Partial<TelemetryWriterOptions> = {},
) {
  const time = fakeTime(0);
  const writer = new TelemetryWriter(
    { store, clock: time.clock, timers: time.timers, logger },
    { ...options, ...overrides },
  );
  return { writer, time };
}

describe('TelemetryWriter', () => {
  it('coalesces batches of many devices into one transaction and settles each only after commit', async () => {
    const held = heldStore();
    const { writer, time } = writerWith(held.store);
    let settled = 0;
    const outcomes = ['a', 'b', 'c'].map((d) => writer.write(batch(d, 1)).finally(() => (settled += 1)));
    await settle();
    assert.equal(held.calls.length, 0, 'waits for the flush interval');
    time.advance(20);
    assert.equal(held.calls.length, 1);
    assert.deepEqual(
      held.calls[0]?.batches.map((b) => b.deviceId),
      ['a', 'b', 'c'],
    );
    await settle();
    assert.equal(settled, 0, 'nothing is acknowledged before the commit');
    held.calls[0]?.commit();
    assert.deepEqual(await Promise.all(outcomes), ['stored', 'stored', 'stored']);
  });

  it('flushes at once when a transaction is full, and writes what arrived meanwhile next', async () => {
    const held = heldStore();
    const { writer } = writerWith(held.store, { maxBatchesPerWrite: 2 });
    const first = [writer.write(batch('a', 1)), writer.write(batch('b', 1))];
    const third = writer.write(batch('c', 1));
    await settle();
    assert.equal(held.calls.length, 1, 'full: written without waiting for the timer');
    held.calls[0]?.commit();
    await Promise.all(first);
    await settle();
    assert.equal(held.calls.length, 2, 'the batch that waited is written right after');
    held.calls[1]?.commit();
    assert.equal(await third, 'stored');
  });

  it('makes callers wait when the queue is full and never drops a batch', async () => {
    const held = heldStore();
    const { writer, time } = writerWith(held.store, { queueBatches: 3, maxBatchesPerWrite: 2 });
    const results: Array<Promise<WriteOutcome>> = [];
    let returned = 0;
    for (let seq = 1; seq <= 10; seq++)
      results.push(writer.write(batch('d', seq)).finally(() => (returned += 1)));
    await settle();
    assert.ok(writer.depth() <= 3, `depth ${writer.depth()} within the bound`);
    // Drive the slow store until every caller has been served.
    while (returned < 10) {
      time.advance(20);
      await settle();
      for (const call of held.calls.splice(0)) call.commit();
      await settle();
      assert.ok(writer.depth() <= 3, `depth ${writer.depth()} within the bound`);
    }
    assert.deepEqual(await Promise.all(results), Array(10).fill('stored'));
    assert.deepEqual(
      held.written,
      Array.from({ length: 10 }, (_, i) => `d/${i + 1}`),
      'every batch, once, in arrival order',
    );
  });

  it("retries batch by batch when a transaction fails, so one bad batch does not fail others'", async () => {
    const held = heldStore((b) => b.deviceId === 'bad');
    const { writer, time } = writerWith(held.store);
    const good = writer.write(batch('good', 1));
    // Observed from the start: it rejects while the others are still being written.
    const bad = writer.write(batch('bad', 1)).then(
      () => undefined,
      (error: unknown) => error,
    );
    const other = writer.write(batch('other', 1));
    time.advance(20);
    held.calls[0]?.commit();
    for (let i = 0; i < 3; i++) {
      await settle();
      held.calls[i + 1]?.commit();
    }
    assert.equal(await good, 'stored');
    assert.equal(await other, 'stored');
    assert.match(String(await bad), /constraint failed/);
  });

  it('fails every batch of the transaction when the database is unavailable (the devices resend)', async () => {
    const held = heldStore();
    const { writer, time } = writerWith(held.store);
    const writes = [writer.write(batch('a', 1)), writer.write(batch('b', 1))];
    time.advance(20);
    held.calls[0]?.fail(new UnavailableError('down'));
    for (const write of writes) await assert.rejects(write, UnavailableError);
    assert.equal(held.calls.length, 1, 'no retry one by one against a database that is down');
  });

  it('writes what is queued on stop and refuses batches after it', async () => {
    const held = heldStore();
    const { writer } = writerWith(held.store);
    const pending = writer.write(batch('a', 1));
    const stopped = writer.stop();
    await settle();
    held.calls[0]?.commit();
    await stopped;
    assert.equal(await pending, 'stored');
    await assert.rejects(writer.write(batch('a', 2)), UnavailableError);
  });
});
