/** The live context: what a server contributes, and what a device-scoped caller is not shown. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { defaultAlertRules } from '../../src/alerts/rules/default-rules.ts';
import { serverConfigSchema } from '../../src/config/schema.ts';
import type { FleetMetricsSummary } from '../../src/fleet-metrics/fleet-summary.ts';
import { gatherLiveContext, type LiveSources } from '../../src/plan/gather-live.ts';
import { buildPlan, renderPlanMarkdown } from '../../src/plan/index.ts';
import { benchmarks, loadExample } from './plan-fixtures.ts';

const HOUR_MS = 3_600_000;

function summary(total: number): FleetMetricsSummary {
  return {
    total,
    online: total,
    atMs: 0,
    scope: { group: null, where: null },
    devices: { total, online: total, offline: 0, onlinePct: 100 },
    firmware: {
      versions: [{ version: '2.0.0', devices: total }],
      otherDevices: 0,
      withRelease: 0,
      onCurrentRelease: 0,
      currentPct: null,
    },
    battery: [],
    signal: [],
    errorRate: { fromMs: 0, errors: 0, samples: 0, pct: null },
  };
}

function sources(calls: { where: Array<string | undefined>; models: number }): LiveSources {
  const metrics = new Registry();
  const batches = new Counter({
    name: 'flotilla_telemetry_batches_total',
    help: 'h',
    labelNames: ['outcome'],
    registers: [metrics],
  });
  batches.inc({ outcome: 'stored' }, 480);
  batches.inc({ outcome: 'invalid' }, 7);
  const records = new Counter({
    name: 'flotilla_telemetry_records_total',
    help: 'h',
    labelNames: ['result', 'reason'],
    registers: [metrics],
  });
  records.inc({ result: 'accepted', reason: '' }, 4800);
  return {
    config: serverConfigSchema.parse({}),
    clock: { now: () => 2 * HOUR_MS },
    startedAtMs: 0,
    listRules: () =>
      Promise.resolve(
        defaultAlertRules.map((rule) => ({
          rule,
          origin: 'default' as const,
          createdAtMs: 0,
          updatedAtMs: 0,
        })),
      ),
    listRollouts: () => Promise.resolve([]),
    fleetSummary: (where) => {
      calls.where.push(where);
      return Promise.resolve(summary(where === undefined ? 10 : 4));
    },
    modelCounts: () => {
      calls.models += 1;
      return Promise.resolve([{ value: 'tracker-2', total: 10, online: 10 }]);
    },
    metrics,
  };
}

describe('live context', () => {
  it('the whole fleet: size, models, firmware, and telemetry per device per day from the counters', async () => {
    const calls = { where: [] as Array<string | undefined>, models: 0 };
    const live = await gatherLiveContext(sources(calls));
    assert.deepEqual(calls.where, [undefined]);
    assert.equal(live.fleet.devices, 10);
    assert.deepEqual(live.fleet.models, [{ model: 'tracker-2', devices: 10 }]);
    assert.deepEqual(live.telemetry, { measuredOverS: 7200, storedBatches: 480, acceptedRecords: 4800 });
    const plan = buildPlan(await loadExample('plan-wifi-small'), {
      bench: await benchmarks(),
      benchFile: 'docs/benchmarks.json',
      live: { context: live, source: 'http://flotilla.test' },
    });
    assert.equal(plan.input.fleet.devicesNow, 10);
    // 480 batches over 2 h from 10 devices: 576 per device per day.
    assert.match(
      renderPlanMarkdown(plan, { chartFile: null }),
      /\| telemetry measured \| 576 batches and 5,760 records per device per day \(over 2 h/,
    );
  });

  it('a device-scoped caller: the summary is narrowed, models and fleet-wide counters are not shown', async () => {
    const calls = { where: [] as Array<string | undefined>, models: 0 };
    const live = await gatherLiveContext(sources(calls), '(region = "eu-west")');
    assert.deepEqual(calls.where, ['(region = "eu-west")']);
    assert.equal(calls.models, 0);
    assert.equal(live.telemetry, null);
    const plan = buildPlan(await loadExample('plan-wifi-small'), {
      bench: await benchmarks(),
      benchFile: 'docs/benchmarks.json',
      live: { context: live, source: 'http://flotilla.test' },
    });
    const markdown = renderPlanMarkdown(plan, { chartFile: null });
    assert.match(markdown, /\| devices \| 4 registered, 4 online \(in your device scope\) \|/);
    assert.match(markdown, /\| models \| not shown for a device-scoped caller \|/);
    assert.match(markdown, /\| telemetry measured \| not shown for a device-scoped caller/);
  });
});
