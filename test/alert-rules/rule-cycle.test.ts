/**
 * The evaluation cycle over real stores (SQLite, and PostgreSQL when it answers) with an injected
 * clock: a `for` duration across a restart, severity escalation of one alert, auto-resolve, a fleet
 * rule with a repeat count, a disabled rule's alerts resolved, and the driver on fake timers.
 * Telemetry arrives through the telemetry store, as ingest writes it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createAlertService } from '../../src/alerts/alert-service.ts';
import { alertRuleSchema } from '../../src/alerts/rules/alert-rule.ts';
import { createAlertRuleService } from '../../src/alerts/rules/alert-rule-service.ts';
import { createRuleCycle } from '../../src/alerts/rules/rule-cycle.ts';
import { startRuleDriver } from '../../src/alerts/rules/rule-driver.ts';
import { defaultAlertRules } from '../../src/alerts/rules/default-rules.ts';
import { GroupService } from '../../src/groups/group-service.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { openStores, type StoreOptions, type Stores } from '../../src/store/open-store.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';

const files = tempDatabaseFiles('rule-cycle');
before(() => files.open());
after(() => files.close());

const t0 = Date.UTC(2026, 10, 1, 12);
const minute = 60_000;
const logger = createLogger('silent');

/** Stores, services and a cycle on one database file, as the server composes them. */
async function open(options: StoreOptions, time: FakeTime, registry?: Registry) {
  const stores = await openStores(options);
  const groups = new GroupService({ groups: stores.groups, clock: time.clock });
  const alerts = createAlertService({
    store: stores.alerts,
    audit: stores.provisioning,
    clock: time.clock,
    logger,
  });
  const rules = createAlertRuleService({
    store: stores.alertRules,
    groups,
    alerts,
    audit: stores.provisioning,
    clock: time.clock,
    logger,
  });
  const cycle = createRuleCycle({
    rules: stores.alertRules,
    metrics: stores.fleetMetrics,
    groups,
    alerts,
    clock: time.clock,
    logger,
    ...(registry ? { registry } : {}),
  });
  return { stores, alerts, rules, cycle };
}

let seq = 0;
/** A battery reading through the telemetry store (raw window, rollups, latest value). */
async function setBattery(stores: Stores, time: FakeTime, deviceId: string, value: number): Promise<void> {
  seq += 1;
  const endMs = time.clock.now() + seq;
  const window = { kind: 'health' as const, metric: 'battery_pct', startMs: endMs - minute, endMs };
  await stores.telemetry.writeBatches([
    {
      deviceId,
      seq,
      receivedAtMs: endMs,
      windows: [{ ...window, min: value, max: value, avg: value, count: 1, last: value }],
      events: [],
      accepted: 1,
      rejected: 0,
    },
  ]);
}

async function addDevices(stores: Stores, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await stores.devices.createDevice({ id: `d${i}`, serial: `S${i}` }, t0);
}

const batteryRule = defaultAlertRules.find((r) => r.name === 'battery-low')!;

function ruleCycleSuite(name: string, fresh: () => StoreOptions): void {
  describe(name, () => {
    it('opens after the duration across a restart, escalates one alert, and resolves it', async () => {
      const options = fresh();
      const time = fakeTime(t0);
      let env = await open(options, time);
      await addDevices(env.stores, 2);
      await env.stores.alertRules.createRule(batteryRule, 'default', t0);
      await setBattery(env.stores, time, 'd1', 8);
      await setBattery(env.stores, time, 'd2', 50);

      assert.deepEqual(await env.cycle.run(), [{ rule: 'battery-low', matches: 1, raised: 0, cleared: 0 }]);
      time.advance(5 * minute);
      await env.cycle.run();
      assert.equal((await env.alerts.list({ state: 'unresolved' }, { limit: 10 })).items.length, 0);

      // A restart: the pending state since t0 is read back from the database.
      await env.stores.close();
      env = await open(options, time);
      time.advance(5 * minute);
      assert.equal((await env.cycle.run())[0]?.raised, 1);
      const [opened] = (await env.alerts.list({ state: 'unresolved' }, { limit: 10 })).items;
      assert.equal(opened?.rule, 'battery-low');
      assert.deepEqual(opened?.subject, { kind: 'device', id: 'd1' });
      assert.equal(opened?.severity, 'warning');
      assert.equal(opened?.details['sinceMs'], t0);

      await setBattery(env.stores, time, 'd1', 4);
      time.advance(minute);
      await env.cycle.run();
      const escalated = await env.alerts.show(opened.id);
      assert.equal(escalated.alert.severity, 'critical');
      assert.deepEqual(
        escalated.history.map((e) => e.kind),
        ['opened', 'severity-changed'],
      );
      assert.equal((await env.alerts.list({ state: 'unresolved' }, { limit: 10 })).items.length, 1);

      await setBattery(env.stores, time, 'd1', 60);
      time.advance(minute);
      assert.equal((await env.cycle.run())[0]?.cleared, 1);
      const resolved = await env.alerts.show(opened.id);
      assert.equal(resolved.alert.state, 'resolved');
      assert.equal(resolved.alert.resolvedBy, 'system');
      assert.deepEqual(await env.stores.alertRules.ruleStates('battery-low'), []);
      await env.stores.close();
    });

    it('raises a fleet rule on the n-th consecutive evaluation and clears it when the fleet recovers', async () => {
      const options = fresh();
      const time = fakeTime(t0);
      const registry = new Registry();
      const env = await open(options, time, registry);
      await addDevices(env.stores, 4);
      await env.rules.create(
        alertRuleSchema.parse({
          name: 'fleet-half-offline',
          target: 'fleet',
          metric: 'online_pct',
          operator: '<',
          levels: [{ severity: 'critical', threshold: 50 }],
          repeat: 2,
        }),
        'test',
      );
      await env.stores.devices.recordConnected('d1', 'S1', t0);
      await env.cycle.run();
      assert.equal((await env.alerts.list({ state: 'unresolved' }, { limit: 10 })).items.length, 0);
      time.advance(minute);
      await env.cycle.run();
      const [alert] = (await env.alerts.list({ state: 'unresolved' }, { limit: 10 })).items;
      assert.deepEqual(alert?.subject, { kind: 'fleet', id: 'fleet' });
      assert.equal(alert?.details['value'], 25);
      assert.match(await registry.metrics(), /^flotilla_alert_rule_matches\{rule="fleet-half-offline"\} 1$/m);
      assert.match(await registry.metrics(), /^flotilla_alert_evaluation_duration_seconds_count 2$/m);

      await env.stores.devices.recordConnected('d2', 'S2', t0 + minute);
      time.advance(minute);
      await env.cycle.run();
      assert.equal((await env.alerts.show(alert.id)).alert.state, 'resolved');
      await env.stores.close();
    });

    it('resolves the alerts of a rule when it is disabled, and skips a broken rule without stopping the others', async () => {
      const options = fresh();
      const time = fakeTime(t0);
      const env = await open(options, time);
      await addDevices(env.stores, 1);
      await env.stores.alertRules.createRule({ ...batteryRule, for: '0s' }, 'default', t0);
      await env.stores.groups.createGroup({ name: 'doomed', query: 'online' }, t0);
      await env.rules.create(
        alertRuleSchema.parse({
          name: 'a-broken',
          target: 'device',
          query: 'online',
          severity: 'info',
          scope: 'group = "doomed"',
        }),
        'test',
      );
      await env.stores.groups.deleteGroup('doomed');
      await setBattery(env.stores, time, 'd1', 3);
      const outcomes = await env.cycle.run();
      assert.match(outcomes[0]?.error ?? '', /doomed/);
      assert.equal(outcomes[1]?.raised, 1);
      const [alert] = (await env.alerts.list({ state: 'unresolved' }, { limit: 10 })).items;
      assert.equal(alert?.severity, 'critical');
      await env.rules.update('battery-low', { enabled: false }, 'test');
      assert.equal((await env.alerts.show(alert.id)).alert.state, 'resolved');
      await env.cycle.run();
      assert.deepEqual(await env.stores.alertRules.ruleStates('battery-low'), []);
      await env.stores.close();
    });

    it('runs on the configured interval of the injected timers', async () => {
      const time = fakeTime(t0);
      let runs = 0;
      const driver = startRuleDriver(
        {
          cycle: {
            run: () => {
              runs++;
              return Promise.resolve([]);
            },
          },
          timers: time.timers,
          logger,
        },
        { intervalMs: 60_000 },
      );
      time.advance(59_999);
      assert.equal(runs, 0);
      time.advance(1);
      assert.equal(runs, 1);
      await driver.stop();
      time.advance(600_000);
      assert.equal(runs, 1);
    });
  });
}

ruleCycleSuite('alert rule cycle on SQLite', () => ({ kind: 'sqlite', file: files.fresh() }));

const unreachable = await probePostgres();
describe('on PostgreSQL', { skip: skipUnlessCi(unreachable) }, () => {
  const schemas: string[] = [];
  after(async () => {
    const admin = await adminClient(unreachable);
    for (const schema of schemas) await dropSchema(admin, schema);
    await admin.end();
  });
  ruleCycleSuite('alert rule cycle on PostgreSQL', () => {
    const schema = uniqueSchemaName();
    schemas.push(schema);
    return { kind: 'postgres', url: postgresUrl, schema };
  });
});
