/** The pure parts of escalation: which chain runs, retry timing, Retry-After, signatures, message text. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertSummary, messageSubject, messageText } from '../../src/alerts/channels/message.ts';
import { parseRetryAfter } from '../../src/alerts/channels/webhook-channel.ts';
import { signWebhook, verifyWebhook } from '../../src/alerts/channels/webhook-signature.ts';
import { planChain } from '../../src/alerts/escalation/escalation-plan.ts';
import { retryDecision } from '../../src/alerts/escalation/retry.ts';
import type { Alert } from '../../src/alerts/alert.ts';

const chain = [
  { afterS: 0, channels: ['team', 'team', 'log'] },
  { afterS: 1800, channels: ['oncall'] },
];
const alert = { id: 'al-1', state: 'open' as const, severity: 'warning' as const, openedAtMs: 1000 };

describe('escalation rules', () => {
  it('plans the first chain from the opening, a higher one from now, and nothing otherwise', () => {
    const first = planChain(alert, chain, [], 5000);
    assert.deepEqual(
      first.rows.map((r) => `${r.step} ${r.channel} ${r.kind} ${r.dueAtMs}`),
      ['warning:0 team opened 1000', 'warning:0 log opened 1000', 'warning:1 oncall escalated 1801000'],
    );
    assert.deepEqual(planChain(alert, chain, ['warning'], 5000).rows, []);
    const rise = planChain({ ...alert, severity: 'critical' }, chain, ['warning'], 5000);
    assert.deepEqual(rise.superseded, ['warning']);
    assert.deepEqual(
      rise.rows.map((r) => `${r.step} ${r.kind} ${r.dueAtMs}`),
      ['critical:0 escalated 5000', 'critical:0 escalated 5000', 'critical:1 escalated 1805000'],
    );
    assert.deepEqual(planChain({ ...alert, severity: 'info' }, chain, ['warning'], 5000).rows, []);
    assert.deepEqual(planChain({ ...alert, state: 'acknowledged' }, chain, [], 5000).rows, []);
  });

  it('backs off exponentially with jitter, honours Retry-After, and stops', () => {
    const policy = { maxAttempts: 4, backoff: { initialMs: 1000, maxMs: 5000 } };
    const delays = [1, 2, 3].map((attempts) => retryDecision(policy, attempts, { retryable: true }, () => 0));
    assert.deepEqual(delays, [
      { retry: true, delayMs: 500 },
      { retry: true, delayMs: 1000 },
      { retry: true, delayMs: 2000 },
    ]);
    assert.deepEqual(
      retryDecision(policy, 1, { retryable: true }, () => 0.999_999),
      { retry: true, delayMs: 1000 },
    );
    assert.deepEqual(
      retryDecision(policy, 1, { retryable: true, retryAfterMs: 30_000 }, () => 0),
      {
        retry: true,
        delayMs: 30_000,
      },
    );
    assert.deepEqual(
      retryDecision(policy, 4, { retryable: true }, () => 0),
      { retry: false },
    );
    assert.deepEqual(
      retryDecision(policy, 1, { retryable: false }, () => 0),
      { retry: false },
    );
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2025, 0, 1, 12);
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 12:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  it('signs "<timestamp>.<body>" and verifies in constant time', () => {
    const signature = signWebhook('0123456789abcdef', 1_700_000_000, '{"a":1}');
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyWebhook('0123456789abcdef', '1700000000', '{"a":1}', signature), true);
    assert.equal(verifyWebhook('0123456789abcdef', '1700000001', '{"a":1}', signature), false);
    assert.equal(verifyWebhook('0123456789abcdef', '1700000000', '{"a":2}', signature), false);
    assert.equal(verifyWebhook('0123456789abcdef', '1700000000', '{"a":1}', 'sha256=00'), false);
  });

  it('writes subjects and digests people can read', () => {
    const full: Alert = {
      ...alert,
      key: 'k',
      rule: 'battery-low',
      subject: { kind: 'device', id: 'd1' },
      title: 'battery low',
      detail: 'battery_pct 8 < 10',
      details: {},
      lastRaisedAtMs: 1000,
      raiseCount: 1,
      acknowledgedAtMs: null,
      acknowledgedBy: null,
      resolvedAtMs: null,
      resolvedBy: null,
    };
    const summary = alertSummary(full, 'https://f.example');
    const base = { deliveryId: 'x', step: 'warning:1', channel: 'c', digest: null };
    assert.equal(
      messageSubject({ ...base, kind: 'escalated', alert: summary }),
      '[flotilla] WARNING (escalated): battery low - device d1',
    );
    const digest = { count: 12, alerts: [{ kind: 'opened' as const, alert: summary }], link: 'L' };
    const text = messageText({ ...base, kind: 'digest', step: 'digest', alert: null, digest });
    assert.match(text, /^12 notifications were grouped/);
    assert.match(text, /- \[warning\] opened: battery low - device d1 \(al-1\)/);
    assert.match(text, /\.\.\. and 11 more/);
  });
});
