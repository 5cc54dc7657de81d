/** Password hashing, token secrets and failed-login throttling (pure parts, injected clock). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle, userThrottleLimits } from '../../src/access/login-throttle.ts';
import {
  checkPasswordStrength,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../../src/access/passwords.ts';
import { looksLikeToken, newTokenSecret, secretHash } from '../../src/access/secrets.ts';
import { ValidationError } from '../../src/infra/errors.ts';
import { fakeTime } from '../helpers/fake-time.ts';

describe('passwords', () => {
  it('stores a self-describing scrypt string with a fresh salt, and verifies only the right password', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    assert.match(first, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(first, second, 'each hash has its own salt');
    assert.equal(await verifyPassword('correct horse battery', first), true);
    assert.equal(await verifyPassword('correct horse batterz', first), false);
    assert.equal(await verifyPassword('correct horse battery', 'not-a-hash'), false);
  });

  it('reads the parameters from the string, so weaker old hashes still verify and ask for a re-hash', async () => {
    const weak = await hashPassword('correct horse battery', { N: 2 ** 10, r: 8, p: 1 });
    assert.equal(await verifyPassword('correct horse battery', weak), true);
    assert.equal(needsRehash(weak), true);
    assert.equal(needsRehash(await hashPassword('correct horse battery')), false);
  });

  it('refuses passwords shorter than 12 characters, naming the field', () => {
    assert.throws(
      () => checkPasswordStrength('short-pass1', 'newPassword'),
      (error: unknown) =>
        error instanceof ValidationError && /newPassword must be at least 12/.test(error.message),
    );
    checkPasswordStrength('twelve-chars');
  });
});

describe('token secrets', () => {
  it('are flt_ + 32 random bytes in base64url, stored as a SHA-256', () => {
    const secret = newTokenSecret();
    assert.match(secret, /^flt_[A-Za-z0-9_-]{43}$/);
    assert.equal(looksLikeToken(secret), true);
    assert.equal(looksLikeToken('flt_short'), false);
    assert.match(secretHash(secret), /^[0-9a-f]{64}$/);
    assert.notEqual(newTokenSecret(), secret);
  });
});

describe('login throttle', () => {
  it('locks a key after 5 failures for 30 s, doubling with each further failure; success clears it', () => {
    const time = fakeTime(1_000_000);
    const throttle = new LoginThrottle(time.clock, userThrottleLimits);
    for (let i = 0; i < 4; i++) assert.equal(throttle.fail('user:ada'), 0);
    assert.equal(throttle.retryAfterMs('user:ada'), 0);
    assert.equal(throttle.fail('user:ada'), 30_000);
    assert.equal(throttle.retryAfterMs('user:ada'), 30_000);
    time.advance(30_000);
    assert.equal(throttle.retryAfterMs('user:ada'), 0);
    assert.equal(throttle.fail('user:ada'), 60_000);
    assert.equal(throttle.fail('user:ada'), 120_000);
    assert.equal(throttle.retryAfterMs('user:bob'), 0, 'keys are independent');
    throttle.succeed('user:ada');
    assert.equal(throttle.retryAfterMs('user:ada'), 0);
  });

  it('caps the lock', () => {
    const time = fakeTime(0);
    const throttle = new LoginThrottle(time.clock, userThrottleLimits);
    let lock = 0;
    for (let i = 0; i < 40; i++) lock = throttle.fail('source');
    assert.equal(lock, userThrottleLimits.maxLockMs);
  });
});
