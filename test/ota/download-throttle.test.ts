import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, pipeline } from 'node:stream';
import { ThrottleStream } from '../../src/ota/delivery/download-throttle.ts';
import { TokenBucket } from '../../src/ota/delivery/token-bucket.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';

const KiB = 1024;

/** A file-like source: `count` chunks of 64 KiB. */
function source(count: number): Readable {
  return Readable.from(
    Array.from({ length: count }, () => Buffer.alloc(64 * KiB)),
    { objectMode: false },
  );
}

/** Lets streams and promises run until nothing is left but fake timers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Reads `stream` to the end, advancing fake time only while it waits; returns bytes per check. */
async function drain(stream: Readable, time: FakeTime, check: (bytes: number) => void): Promise<number> {
  let bytes = 0;
  let ended = false;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    check(bytes);
  });
  stream.once('end', () => {
    ended = true;
  });
  for (;;) {
    await settle();
    if (ended) return bytes;
    const next = time.pendingTimeouts()[0];
    assert.ok(next !== undefined, 'the stream neither ended nor waits for tokens');
    time.advance(next);
  }
}

describe('ThrottleStream', () => {
  it('sends no more than the burst plus the rate times the elapsed time', async () => {
    const time = fakeTime(0);
    const rate = 64 * KiB;
    const shared = new TokenBucket({ bytesPerS: rate }, time.clock);
    const paced = pipeline(source(16), new ThrottleStream([shared], time), () => {});
    const bytes = await drain(paced, time, (sent) =>
      assert.ok(sent <= rate + (rate * time.clock.now()) / 1000, `${sent} B at ${time.clock.now()} ms`),
    );
    assert.equal(bytes, 1024 * KiB);
    // 1 MiB at 64 KiB/s with one second of burst: 15 s, no more.
    assert.equal(time.clock.now(), 15_000);
  });

  it('waits for the slower of the shared bucket and the per-download cap', async () => {
    const time = fakeTime(0);
    const shared = new TokenBucket({ bytesPerS: 1024 * KiB }, time.clock);
    const perDownload = new TokenBucket({ bytesPerS: 32 * KiB }, time.clock);
    const paced = pipeline(source(4), new ThrottleStream([shared, perDownload], time), () => {});
    assert.equal(await drain(paced, time, () => {}), 256 * KiB);
    // 256 KiB at the per-download 32 KiB/s after its 32 KiB burst: 7 s.
    assert.equal(time.clock.now(), 7_000);
  });

  it('keeps backpressure: an unread stream reserves only what fits its buffers', async () => {
    const time = fakeTime(0);
    const shared = new TokenBucket({ bytesPerS: 1024 * 1024 * KiB }, time.clock);
    const full = shared.available();
    const paced = pipeline(source(64), new ThrottleStream([shared], time), () => {});
    await settle();
    const reserved = full - shared.available();
    assert.ok(reserved > 0 && reserved <= 128 * KiB, `${reserved} bytes reserved of 4 MiB`);
    paced.destroy();
  });

  it('clears its timer and returns the reservation when destroyed while waiting', async () => {
    const time = fakeTime(0);
    const shared = new TokenBucket({ bytesPerS: 16 * KiB }, time.clock);
    const file = source(4);
    const paced = pipeline(file, new ThrottleStream([shared], time), () => {});
    paced.resume();
    await settle();
    assert.deepEqual(time.pendingTimeouts(), [1000]);
    assert.equal(shared.available(), -16 * KiB);
    paced.destroy();
    await settle();
    assert.deepEqual(time.pendingTimeouts(), []);
    assert.equal(shared.available(), 0);
    assert.ok(file.destroyed, 'the source is destroyed with the throttle');
  });
});
