import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  maintenanceWindowSchema,
  windowState,
  type MaintenanceWindow,
} from '../../src/contracts/maintenance-window.ts';
import type { SelectableDevice } from '../../src/ota/rollouts/device-selector.ts';
import { groupByWindow, windowFor } from '../../src/ota/rollouts/maintenance-windows.ts';

const at = (iso: string): number => Date.parse(iso);
const window = (cron: string, durationS: number, timezone: string): MaintenanceWindow =>
  maintenanceWindowSchema.parse({ cron, durationS, timezone });
const HOUR_S = 3600;

describe('windowState', () => {
  it('is open from the start for durationS, closed before and after (UTC)', () => {
    const w = window('0 2 * * *', HOUR_S, 'UTC');
    assert.deepEqual(windowState(w, at('2026-06-10T01:59:59Z')), {
      open: false,
      opensAtMs: at('2026-06-10T02:00:00Z'),
    });
    assert.deepEqual(windowState(w, at('2026-06-10T02:00:00Z')), {
      open: true,
      closesAtMs: at('2026-06-10T03:00:00Z'),
    });
    assert.equal(windowState(w, at('2026-06-10T02:59:59.999Z')).open, true);
    assert.deepEqual(windowState(w, at('2026-06-10T03:00:00Z')), {
      open: false,
      opensAtMs: at('2026-06-11T02:00:00Z'),
    });
  });

  it('reads the cron in the time zone (Berlin summer, New York winter)', () => {
    const berlin = window('0 2 * * *', HOUR_S, 'Europe/Berlin');
    assert.equal(windowState(berlin, at('2026-06-10T00:30:00Z')).open, true); // 02:30 CEST
    assert.equal(windowState(berlin, at('2026-06-10T02:30:00Z')).open, false);
    const newYork = window('0 22 * * 1-5', 2 * HOUR_S, 'America/New_York');
    // Friday 2026-01-09 22:30 EST = Saturday 03:30 UTC
    assert.equal(windowState(newYork, at('2026-01-10T03:30:00Z')).open, true);
    // Saturday 22:30 EST: weekends are not in the window; next start Monday 22:00 EST
    assert.deepEqual(windowState(newYork, at('2026-01-11T03:30:00Z')), {
      open: false,
      opensAtMs: at('2026-01-13T03:00:00Z'),
    });
  });

  it('spans midnight: a 23:00 start lasting 3 h is open at 01:00 the next day', () => {
    const w = window('0 23 * * *', 3 * HOUR_S, 'Europe/Berlin');
    // 01:00 CEST on 11 June = 23:00 UTC on 10 June; opened 23:00 CEST = 21:00 UTC
    assert.deepEqual(windowState(w, at('2026-06-10T23:00:00Z')), {
      open: true,
      closesAtMs: at('2026-06-11T00:00:00Z'),
    });
    assert.equal(windowState(w, at('2026-06-11T00:00:00Z')).open, false); // 02:00 CEST
  });

  it('a window in the spring-forward gap still opens (Berlin 2026-03-29, 02:00 does not exist)', () => {
    const w = window('0 2 * * *', HOUR_S, 'Europe/Berlin');
    // The clock jumps from 02:00 CET to 03:00 CEST = 01:00 UTC: the window opens then.
    assert.deepEqual(windowState(w, at('2026-03-29T00:30:00Z')), {
      open: false,
      opensAtMs: at('2026-03-29T01:00:00Z'),
    });
    assert.deepEqual(windowState(w, at('2026-03-29T01:30:00Z')), {
      open: true,
      closesAtMs: at('2026-03-29T02:00:00Z'),
    });
    // The next day it is 02:00 CEST = 00:00 UTC again.
    assert.equal(windowState(w, at('2026-03-30T00:10:00Z')).open, true);
  });

  it('a start that occurs twice (Berlin 2026-10-25, 02:30) opens once, at the first occurrence', () => {
    const w = window('30 2 * * *', 1800, 'Europe/Berlin');
    // 02:30 CEST = 00:30 UTC; the repeated 02:30 CET = 01:30 UTC does not reopen it.
    assert.deepEqual(windowState(w, at('2026-10-25T00:00:00Z')), {
      open: false,
      opensAtMs: at('2026-10-25T00:30:00Z'),
    });
    assert.equal(windowState(w, at('2026-10-25T00:45:00Z')).open, true);
    assert.equal(windowState(w, at('2026-10-25T01:45:00Z')).open, false);
  });

  it('duration is elapsed time across a DST change (New York 2026-03-08)', () => {
    // 01:00 EST + 2 h elapsed = 04:00 EDT (wall clock 3 h later).
    const w = window('0 1 * * *', 2 * HOUR_S, 'America/New_York');
    assert.deepEqual(windowState(w, at('2026-03-08T06:30:00Z')), {
      open: true,
      closesAtMs: at('2026-03-08T08:00:00Z'),
    });
    assert.equal(windowState(w, at('2026-03-08T08:00:00Z')).open, false);
  });

  it('step forms: every 15 minutes for 5 minutes', () => {
    const w = window('*/15 * * * *', 300, 'Asia/Kolkata');
    assert.equal(windowState(w, at('2026-06-10T10:00:00Z')).open, true); // 15:30 IST
    assert.equal(windowState(w, at('2026-06-10T10:04:59Z')).open, true);
    assert.deepEqual(windowState(w, at('2026-06-10T10:05:00Z')), {
      open: false,
      opensAtMs: at('2026-06-10T10:15:00Z'),
    });
  });

  it('overlapping occurrences: the latest start decides', () => {
    const w = window('*/15 * * * *', HOUR_S, 'UTC');
    assert.deepEqual(windowState(w, at('2026-06-10T10:20:00Z')), {
      open: true,
      closesAtMs: at('2026-06-10T11:15:00Z'),
    });
  });

  it('a weekly window lasting 7 days is always open', () => {
    const w = window('0 0 * * 0', 7 * 24 * HOUR_S, 'UTC');
    for (const iso of ['2026-06-07T00:00:00Z', '2026-06-10T12:00:00Z', '2026-06-13T23:59:59Z'])
      assert.equal(windowState(w, at(iso)).open, true, iso);
  });
});

describe('maintenanceWindowSchema', () => {
  const problems = (input: unknown): string[] => {
    const parsed = maintenanceWindowSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const good = { cron: '0 2 * * MON-FRI', durationS: 3600, timezone: 'Europe/Berlin' };

  it('accepts portable cron with names, lists, ranges and steps', () => {
    assert.deepEqual(problems(good), []);
    assert.deepEqual(problems({ ...good, cron: '0,30 1-4/2 1 JAN,JUL *' }), []);
  });

  it('refuses bad cron, durations, zones and unknown fields', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, cron: '0 2 * *' }, /^cron: invalid cron: a cron expression has 5 fields/],
      [{ ...good, cron: '0 0 2 * * *' }, /^cron: invalid cron: a cron expression has 5 fields/],
      [{ ...good, cron: '61 2 * * *' }, /^cron: invalid cron: .*minute/],
      [{ ...good, cron: '@daily' }, /^cron: invalid cron/],
      [{ ...good, cron: '0 0 L * *' }, /^cron: invalid cron: only numbers/],
      [{ ...good, cron: '0 0 * * FRI#2' }, /^cron: invalid cron: only numbers/],
      [{ ...good, cron: '0 0 30 2 *' }, /^cron: invalid cron: never matches/],
      [{ ...good, durationS: 59 }, /^durationS: durationS must be at least 60/],
      [{ ...good, durationS: 7 * 86400 + 1 }, /^durationS: durationS must be at most/],
      [{ ...good, durationS: 60.5 }, /^durationS: /],
      [{ ...good, timezone: 'Mars/Olympus' }, /^timezone: an IANA time zone/],
      [{ ...good, extra: 1 }, /extra/],
    ];
    for (const [input, expected] of cases) {
      const found = problems(input);
      assert.equal(found.length, 1, JSON.stringify({ input, found }));
      assert.match(found[0] ?? '', expected);
    }
  });
});

describe('groupByWindow', () => {
  const device = (id: string, site: string): SelectableDevice => ({
    id,
    hardwareModel: 'tracker-2',
    hardwareRevision: 'B',
    firmwareVersion: '2.3.0',
    tags: { site },
    region: 'eu-west',
    owner: null,
  });
  const nightly = { cron: '0 2 * * *', durationS: 3600, timezone: 'Europe/Berlin' };
  const weekend = { cron: '0 0 * * SAT', durationS: 86400, timezone: 'UTC' };
  const windows = [
    { selector: { tags: { site: 'north' } }, ...nightly },
    { selector: { deviceIds: ['d4', 'd1'] }, ...weekend },
  ];

  it('uses the first matching window, no window when none matches, in first-seen order', () => {
    const records = new Map(
      [device('d1', 'north'), device('d2', 'lab'), device('d3', 'north'), device('d4', 'lab')].map((d) => [
        d.id,
        d,
      ]),
    );
    assert.deepEqual(groupByWindow(windows, ['d2', 'd1', 'd3', 'd4', 'gone'], records), [
      { window: null, deviceIds: ['d2', 'gone'] },
      { window: nightly, deviceIds: ['d1', 'd3'] },
      { window: weekend, deviceIds: ['d4'] },
    ]);
    assert.equal(windowFor([], device('d1', 'north')), null);
  });
});
