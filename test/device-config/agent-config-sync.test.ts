/**
 * The agent's side: the planner (live now, restart later, refusals with reasons, never trusting
 * the server), the state surviving a restart in the state dir, and the cross-key telemetry rule.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  agentConfigSchema,
  crossKeyRejections,
  telemetrySettingsOf,
  type AgentConfigBaseline,
} from '../../src/agent/config-sync/agent-schema.ts';
import { planDesired, startupState } from '../../src/agent/config-sync/config-plan.ts';
import { openConfigSync } from '../../src/agent/config-sync/config-sync.ts';
import { TELEMETRY_DEFAULTS } from '../../src/agent/telemetry/settings.ts';
import type { Agent, AgentLogger } from '../../src/agent/types.ts';
import type { ConfigReported } from '../../src/contracts/config-messages.ts';
import { systemTimers } from '../../src/infra/timers.ts';

const baseline: AgentConfigBaseline = {
  heartbeatIntervalS: 60,
  keepaliveS: 60,
  logLevel: 'info',
  telemetry: TELEMETRY_DEFAULTS,
};
const schema = agentConfigSchema(baseline);
const check = (values: Parameters<typeof crossKeyRejections>[0]) =>
  crossKeyRejections(values, baseline.telemetry);
const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };

describe('agent config planner', () => {
  const start = startupState(schema, undefined);

  it('starts from the local baseline', () => {
    assert.equal(start.version, 0);
    assert.equal(start.applied['heartbeat.intervalS'], 60);
    assert.equal(start.applied['telemetry.healthSampleS'], 60);
    assert.equal(start.applied['log.level'], 'info');
  });

  it('applies live keys now and keeps restart keys pending', () => {
    const plan = planDesired(
      schema,
      start,
      { version: 4, values: { 'heartbeat.intervalS': 10, 'mqtt.keepaliveS': 30 } },
      check,
    );
    assert.deepEqual(plan.live, { 'heartbeat.intervalS': 10 });
    assert.equal(plan.state.version, 4);
    assert.equal(plan.state.applied['heartbeat.intervalS'], 10);
    assert.equal(plan.state.applied['mqtt.keepaliveS'], 60);
    assert.deepEqual(plan.state.pending, { 'mqtt.keepaliveS': 30 });
    assert.deepEqual(plan.state.rejected, []);
    const restarted = startupState(schema, plan.state);
    assert.equal(restarted.applied['mqtt.keepaliveS'], 30);
    assert.deepEqual(restarted.pending, {});
  });

  it('re-validates what the server sends and keeps the old value of a refused key', () => {
    const plan = planDesired(
      schema,
      start,
      { version: 5, values: { 'heartbeat.intervalS': 0, 'log.level': 'loud', 'fan.speed': 3 } },
      check,
    );
    assert.deepEqual(plan.live, {});
    assert.deepEqual(plan.state.rejected, [
      { key: 'fan.speed', reason: 'unknown key: not in the device schema' },
      { key: 'heartbeat.intervalS', reason: 'must be >= 1 (min)' },
      { key: 'log.level', reason: 'must be one of debug, info, warn, error (enum)' },
    ]);
    assert.equal(plan.state.applied['heartbeat.intervalS'], 60);
  });

  it('goes back to the baseline for a key the document no longer has, and cancels a pending restart', () => {
    const changed = planDesired(schema, start, {
      version: 1,
      values: { 'heartbeat.intervalS': 5, 'log.level': 'debug' },
    });
    const back = planDesired(schema, changed.state, { version: 2, values: {} });
    assert.deepEqual(back.live, { 'heartbeat.intervalS': 60 });
    assert.deepEqual(back.state.pending, {});
  });

  it('refuses telemetry windows that are not whole sample periods', () => {
    assert.deepEqual(
      check({ ...start.applied, 'telemetry.healthSampleS': 7 }).map((r) => r.key),
      ['telemetry.healthWindowS'],
    );
    const settings = telemetrySettingsOf(
      { 'telemetry.appSampleS': 0.5, 'telemetry.appWindowS': 5 },
      baseline.telemetry,
    );
    assert.deepEqual(settings.app, { sampleMs: 500, windowMs: 5000 });
  });
});

describe('agent config sync', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-config-sync-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A stand-in for the MQTT agent: records reports and heartbeat changes. */
  function fakeAgent() {
    const reports: ConfigReported[] = [];
    const heartbeats: number[] = [];
    const agent = {
      publishConfigReported: (report: ConfigReported) => {
        reports.push(report);
        return Promise.resolve();
      },
      setHeartbeatIntervalS: (s: number) => heartbeats.push(s),
    } as unknown as Agent;
    return { agent, reports, heartbeats };
  }

  it('persists state atomically, reports on connect with the schema, and applies restart keys at the next start', async () => {
    const file = join(dir, 'config.json');
    const deps = { clock: { now: () => 0 }, timers: systemTimers, random: Math.random, logger: silent };
    const first = await openConfigSync(deps, { baseline, file });
    const { agent, reports, heartbeats } = fakeAgent();
    first.attach(agent);
    const options = first.agentOptions({
      deviceId: 'd',
      serverUrl: 'mqtts://x',
      tls: { caPem: '', certPem: '', keyPem: '' },
      identity: { serial: 's', hardware: { model: 'm', revision: 'r' } },
      firmwareVersion: '1',
    });
    options.onConnected?.();
    assert.ok(reports[0]?.schema, 'the connect report declares the schema');
    options.onConfigDesired?.({ version: 3, values: { 'heartbeat.intervalS': 15, 'mqtt.keepaliveS': 20 } });
    await first.stop();
    assert.deepEqual(heartbeats, [15]);
    const last = reports.at(-1);
    assert.equal(last?.version, 3);
    assert.deepEqual(last?.pendingRestart, ['mqtt.keepaliveS']);
    assert.equal(last?.schema, undefined);
    // The same document again (retained, on reconnect) changes nothing.
    options.onConfigDesired?.({ version: 3, values: {} });
    await first.stop();
    assert.equal(reports.length, 2);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { pending: Record<string, unknown> };
    assert.deepEqual(saved.pending, { 'mqtt.keepaliveS': 20 });

    const second = await openConfigSync(deps, { baseline, file });
    assert.equal(second.values()['mqtt.keepaliveS'], 20);
    assert.deepEqual(second.pendingRestart(), []);
    const restartedOptions = second.agentOptions(options);
    assert.equal(restartedOptions.keepaliveS, 20);
    assert.equal(restartedOptions.heartbeatIntervalS, 15);
  });

  it('starts from the baseline when the state file is damaged', async () => {
    const file = join(dir, 'damaged.json');
    await writeFile(file, '{"version": "x"');
    const warnings: string[] = [];
    const sync = await openConfigSync(
      {
        clock: { now: () => 0 },
        timers: systemTimers,
        random: Math.random,
        logger: { ...silent, warn: (_obj, msg) => warnings.push(msg) },
      },
      { baseline, file },
    );
    assert.equal(sync.values()['heartbeat.intervalS'], 60);
    assert.deepEqual(warnings, ['ignoring damaged config state']);
  });
});
