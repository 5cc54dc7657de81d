import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  countsSummary,
  formatHold,
  gateComparison,
  orderedCounts,
  pauseReasonText,
  plural,
  stageTimes,
  type TimelineEvent,
} from '../../src/web/app/pages/rollout-format.ts';

const event = (kind: TimelineEvent['kind'], stageIndex: number, atMs: number): TimelineEvent => ({
  atMs,
  kind,
  actor: 'system',
  stageIndex,
  message: kind,
  details: {},
});

describe('rollout page formatting', () => {
  it('reads each gate value in its unit against its threshold', () => {
    assert.equal(gateComparison('min-reported', 3, 5), '3 (needs ≥ 5)');
    assert.equal(gateComparison('success-rate', 0.97, 0.95), '97.0 % (needs ≥ 95.0 %)');
    assert.equal(gateComparison('failure-rate', null, 0.05), '— (needs ≤ 5.0 %)');
    assert.equal(gateComparison('health-regression', 1.234, 1.5), '×1.23 (needs ≤ ×1.50)');
  });

  it('says why a rollout paused, by gate or by operator', () => {
    assert.equal(
      pauseReasonText({
        kind: 'gate',
        gate: 'failure-rate',
        value: 0.5,
        threshold: 0.05,
        message: 'too many',
      }),
      'Gate failure rate failed at 50.0 % (needs ≤ 5.0 %): too many',
    );
    assert.equal(
      pauseReasonText({ kind: 'operator', actor: 'user:ann', message: 'ticket 42' }),
      'Paused by user:ann: ticket 42',
    );
  });

  it('takes stage start and end times from the timeline', () => {
    const times = stageTimes(3, [
      event('created', 0, 100),
      event('hold-started', 0, 150),
      event('paused', 0, 160),
      event('stage-started', 1, 200),
      event('approved', 2, 300),
      event('completed', 2, 400),
    ]);
    assert.deepEqual(times, [
      { startedMs: 100, finishedMs: 200 },
      { startedMs: 200, finishedMs: 300 },
      { startedMs: 300, finishedMs: 400 },
    ]);
    assert.deepEqual(stageTimes(2, [event('created', 0, 100)]), [{ startedMs: 100 }, {}]);
  });

  it('orders device counts as an update goes, leaving out zeros and keeping unknown states', () => {
    const counts = { 'not-started': 9, success: 3, failed: 0, downloading: 1, mystery: 2 };
    assert.deepEqual(
      orderedCounts(counts).map((r) => [r.state, r.count]),
      [
        ['success', 3],
        ['downloading', 1],
        ['not-started', 9],
        ['mystery', 2],
      ],
    );
    assert.equal(countsSummary({ success: 3, 'rolled-back': 1 }), '3 updated · 1 rolled back');
    assert.equal(countsSummary({}), 'no devices');
  });

  it('writes hold times and counts the way people say them', () => {
    assert.equal(formatHold(0), '0 s');
    assert.equal(formatHold(60), '1 min');
    assert.equal(formatHold(5400), '1 h 30 min');
    assert.equal(formatHold(86_400 + 5), '1 d 5 s');
    assert.equal(plural(1, 'device'), '1 device');
    assert.equal(plural(12_345, 'device'), '12,345 devices');
  });
});
