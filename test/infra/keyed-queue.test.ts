import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSerialQueue } from '../../src/infra/keyed-queue.ts';

describe('KeyedSerialQueue', () => {
  it('runs tasks of one key in order even when earlier ones are slower, and survives failures', async () => {
    const queue = new KeyedSerialQueue();
    const order: string[] = [];
    const slow = queue.run('a', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('a1');
    });
    const failing = queue.run('a', () => Promise.reject(new Error('boom')));
    const fast = queue.run('a', () => {
      order.push('a2');
      return Promise.resolve();
    });
    const other = queue.run('b', () => {
      order.push('b1');
      return Promise.resolve();
    });
    await assert.rejects(failing, /boom/);
    await Promise.all([slow, fast, other]);
    await queue.drain();
    assert.deepEqual(order, ['b1', 'a1', 'a2']);
  });
});
