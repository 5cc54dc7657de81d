// Health checks of a trial boot: rounds, and the stock checks (command, connected, process up).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execCommandRunner } from '../../src/agent/update/command-runner.ts';
import {
  commandCheck,
  connectedCheck,
  processUpCheck,
  runHealthRounds,
} from '../../src/agent/update/health.ts';

const noPause = () => Promise.resolve();

describe('health checks', () => {
  it('a custom command passes on exit 0 and fails otherwise (real processes)', async () => {
    assert.equal(await commandCheck(execCommandRunner, 'true').run(), true);
    assert.equal(await commandCheck(execCommandRunner, 'false').run(), false);
    assert.equal(await commandCheck(execCommandRunner, '/nonexistent/check').run(), false);
  });

  it('connected passes the timeout to waitConnected', async () => {
    const asked: number[] = [];
    const check = connectedCheck((ms) => {
      asked.push(ms);
      return Promise.resolve(true);
    }, 30_000);
    assert.equal(await check.run(), true);
    assert.deepEqual(asked, [30_000]);
  });

  it('passes on the first healthy round and fails after N unhealthy ones', async () => {
    let calls = 0;
    const flaky = { name: 'flaky', run: () => Promise.resolve(++calls >= 2) };
    assert.deepEqual(await runHealthRounds([processUpCheck(() => true), flaky], 3, noPause), {
      healthy: true,
      failed: [],
    });
    assert.equal(calls, 2);
    let pauses = 0;
    const result = await runHealthRounds(
      [{ name: 'down', run: () => Promise.reject(new Error('boom')) }],
      3,
      () => Promise.resolve(void pauses++),
    );
    assert.deepEqual(result, { healthy: false, failed: ['down'] });
    assert.equal(pauses, 2);
  });
});
