import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/ota/delivery/token-bucket.ts';
import { fakeTime } from '../helpers/fake-time.ts';

describe('TokenBucket', () => {
  it('lets a full bucket burst, then makes the caller wait for the refill', () => {
    const time = fakeTime(0);
    const bucket = new TokenBucket({ bytesPerS: 1000 }, time.clock);
    assert.equal(bucket.reserve(600), 0);
    assert.equal(bucket.reserve(400), 0);
    assert.equal(bucket.available(), 0);
    // 250 bytes at 1000 B/s: 250 ms.
    assert.equal(bucket.reserve(250), 250);
    time.advance(250);
    assert.equal(bucket.available(), 0);
    time.advance(100);
    assert.equal(bucket.available(), 100);
  });

  it('serves reservations in order by running into debt', () => {
    const time = fakeTime(0);
    const bucket = new TokenBucket({ bytesPerS: 1000, burstBytes: 0 }, time.clock);
    assert.deepEqual([bucket.reserve(100), bucket.reserve(100), bucket.reserve(300)], [100, 200, 500]);
    time.advance(500);
    assert.equal(bucket.available(), 0);
  });

  it('never holds more than the burst, however long it idles', () => {
    const time = fakeTime(0);
    const bucket = new TokenBucket({ bytesPerS: 1000, burstBytes: 1500 }, time.clock);
    time.advance(60_000);
    assert.equal(bucket.available(), 1500);
    assert.equal(bucket.reserve(1500), 0);
    assert.equal(bucket.reserve(1), 1);
  });

  it('sends no more than burst + rate × elapsed over a long run of slices', () => {
    const time = fakeTime(0);
    const rate = 64 * 1024;
    const bucket = new TokenBucket({ bytesPerS: rate }, time.clock);
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      time.advance(bucket.reserve(16 * 1024));
      sent += 16 * 1024;
      assert.ok(sent <= rate + (rate * time.clock.now()) / 1000, `${sent} bytes by ${time.clock.now()} ms`);
    }
    // 200 slices of 16 KiB = 50 s worth at 64 KiB/s, of which 1 s was the initial burst.
    assert.equal(time.clock.now(), 49_000);
  });

  it('takes back a reservation that was not sent, up to the burst', () => {
    const time = fakeTime(0);
    const bucket = new TokenBucket({ bytesPerS: 1000 }, time.clock);
    assert.equal(bucket.reserve(1500), 500);
    bucket.release(1500);
    assert.equal(bucket.available(), 1000);
  });

  it('ignores a clock that steps backwards', () => {
    const time = fakeTime(10_000);
    const bucket = new TokenBucket({ bytesPerS: 1000 }, time.clock);
    bucket.reserve(1000);
    time.advance(-5000);
    assert.equal(bucket.available(), 0);
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new TokenBucket({ bytesPerS: 0 }, fakeTime(0).clock), RangeError);
  });
});
