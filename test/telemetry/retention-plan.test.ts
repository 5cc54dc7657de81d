import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  archivePath,
  dayLabel,
  dayStart,
  planRetention,
  sourceLabel,
} from '../../src/telemetry/retention/retention-plan.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const now = Date.UTC(2026, 10, 27, 10, 30);
const days = { healthRaw: 90, appRaw: 30, events: 365, hourlyRollups: 400, dailyRollups: 1830 };

describe('retention plan', () => {
  it('expires whole UTC days older than each raw retention', () => {
    const plan = planRetention(now, days);
    assert.deepEqual(
      plan.raw.map((s) => [sourceLabel(s.source), dayLabel(s.beforeMs), dayLabel(s.dropPartitionBeforeMs)]),
      [
        ['windows/app', '2026-10-28', '2026-08-29'],
        ['windows/health', '2026-08-29', '2026-08-29'],
        ['events', '2025-11-27', '2025-11-27'],
      ],
    );
    // The day holding now − 30 d is not whole yet: it is kept.
    assert.ok(plan.raw[0]!.beforeMs <= now - 30 * DAY);
    assert.ok(plan.raw[0]!.beforeMs + DAY > now - 30 * DAY);
  });

  it('expires rollup buckets that ended before their retention, and dedup rows after the longest raw one + 1 day', () => {
    const plan = planRetention(now, days);
    assert.deepEqual(plan.rollups, [
      { resolution: 'hour', beforeMs: now - 400 * DAY - HOUR },
      { resolution: 'day', beforeMs: now - 1830 * DAY - DAY },
    ]);
    assert.equal(plan.batchesBeforeMs, now - 366 * DAY);
  });

  it('names files Hive-style by kind and day', () => {
    const day = Date.UTC(2026, 7, 29);
    assert.equal(
      archivePath({ table: 'windows', kind: 'health' }, day),
      'windows/kind=health/day=2026-08-29/data.parquet',
    );
    assert.equal(archivePath({ table: 'events' }, day), 'events/day=2026-08-29/data.parquet');
    assert.equal(dayStart(day + 23 * HOUR), day);
    assert.equal(dayStart(day), day);
  });
});
