/** The agent against a real Mosquitto with TLS client-certificate auth. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { heartbeatSchema, stateReportedSchema, type Rejected } from '../../src/contracts/device-messages.ts';
import { createAgent } from '../../src/agent/agent.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import type { Agent, AgentLogger, Timers } from '../../src/agent/types.ts';
import {
  deviceCert,
  startMosquitto,
  startObserver,
  type MosquittoFixture,
  type ObservedMessage,
} from '../helpers/mosquitto-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

/** Timers that fire only when the test says so: heartbeats and reconnects without sleeping. */
function manualTimers(): {
  timers: Timers;
  tickIntervals: () => void;
  activeIntervals: () => number;
  /** Fires every pending timeout once; returns their delays. */
  runTimeouts: () => number[];
} {
  const intervals = new Map<number, () => void>();
  const timeouts = new Map<number, { callback: () => void; ms: number }>();
  let nextId = 1;
  return {
    timers: {
      setInterval: (callback) => {
        intervals.set(nextId, callback);
        return nextId++;
      },
      clearInterval: (handle) => intervals.delete(handle as number),
      setTimeout: (callback, ms) => {
        timeouts.set(nextId, { callback, ms });
        return nextId++;
      },
      clearTimeout: (handle) => timeouts.delete(handle as number),
    },
    tickIntervals: () => intervals.forEach((callback) => callback()),
    activeIntervals: () => intervals.size,
    runTimeouts: () => {
      const due = [...timeouts.entries()];
      timeouts.clear();
      due.forEach(([, t]) => t.callback());
      return due.map(([, t]) => t.ms);
    },
  };
}

function recordingLogger(): AgentLogger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => undefined;
  return { warnings, debug: noop, info: noop, error: noop, warn: (_obj, msg) => warnings.push(msg) };
}

const reportsOf = (messages: ObservedMessage[], deviceId: string) =>
  messages
    .filter((m) => m.topic === `fl/d/${deviceId}/state/reported`)
    .map((m) => stateReportedSchema.parse(m.payload));

describe('agent against mosquitto', () => {
  let broker: MosquittoFixture;
  let observer: { client: MqttClient; messages: ObservedMessage[] };
  const agents: Agent[] = [];

  before(async () => {
    broker = await startMosquitto();
    observer = await startObserver(broker.plainPort);
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await observer?.client.endAsync(true);
    await broker?.close();
  });

  async function startAgent(deviceId: string, extra: { timers?: Timers; now?: () => number } = {}) {
    const cert = await deviceCert(broker.pki, deviceId);
    const rejected: Rejected[] = [];
    const logger = recordingLogger();
    const agent = createAgent(
      {
        clock: { now: extra.now ?? (() => Date.now()) },
        timers: extra.timers ?? systemTimers,
        random: () => 0.5,
        logger,
      },
      {
        deviceId,
        serverUrl: broker.tlsUrl,
        tls: { caPem: broker.pki.chainPem, ...cert },
        identity: { serial: `SN-${deviceId}`, hardware: { model: 'tracker-2', revision: 'B' } },
        firmwareVersion: '1.4.0',
        region: 'eu-west',
        tags: { site: 'berlin' },
        backoff: { initialMs: 50, maxMs: 200 },
        onRejected: (r) => rejected.push(r),
      },
    );
    agents.push(agent);
    agent.start();
    await waitFor(() => agent.isConnected(), { what: `${deviceId} connected` });
    return { agent, rejected, logger };
  }

  it('publishes a schema-valid state/reported on connect and heartbeats on each interval', async () => {
    let nowMs = Date.now();
    const manual = manualTimers();
    await startAgent('dev-state', { timers: manual.timers, now: () => nowMs });
    await waitFor(() => reportsOf(observer.messages, 'dev-state').length === 1, { what: 'state/reported' });
    const [report] = reportsOf(observer.messages, 'dev-state');
    assert.deepEqual(
      { ...report, seq: 0 },
      {
        seq: 0,
        firmwareVersion: '1.4.0',
        hardware: { model: 'tracker-2', revision: 'B' },
        serial: 'SN-dev-state',
        uptimeS: 0,
        region: 'eu-west',
        tags: { site: 'berlin' },
      },
    );
    assert.equal(manual.activeIntervals(), 1);

    nowMs += 61_000;
    manual.tickIntervals();
    const heartbeats = () => observer.messages.filter((m) => m.topic === 'fl/d/dev-state/heartbeat');
    await waitFor(() => heartbeats().length === 1, { what: 'heartbeat' });
    assert.deepEqual(heartbeatSchema.parse(heartbeats()[0]?.payload), { uptimeS: 61 });
  });

  it('republishes state only when it changed, with a higher seq', async () => {
    const { agent } = await startAgent('dev-change');
    await waitFor(() => reportsOf(observer.messages, 'dev-change').length === 1, { what: 'first report' });
    agent.updateState({ region: 'eu-west' }); // unchanged: no report
    agent.setFirmwareVersion('1.5.0');
    await waitFor(() => reportsOf(observer.messages, 'dev-change').length === 2, { what: 'second report' });
    const [first, second] = reportsOf(observer.messages, 'dev-change');
    assert.equal(second?.firmwareVersion, '1.5.0');
    assert.ok((second?.seq ?? 0) > (first?.seq ?? 0));
    assert.equal(agent.state().firmwareVersion, '1.5.0');
  });

  it('hands valid rejected messages to onRejected and ignores invalid ones', async () => {
    const { rejected, logger } = await startAgent('dev-rejected');
    const topic = 'fl/d/dev-rejected/rejected';
    await observer.client.publishAsync(topic, 'not json', { qos: 1 });
    await observer.client.publishAsync(topic, JSON.stringify({ topic: 'x', code: 'nope', message: '' }), {
      qos: 1,
    });
    const valid = { topic: 'fl/d/dev-rejected/heartbeat', code: 'malformed_payload', message: 'bad' };
    await observer.client.publishAsync(topic, JSON.stringify(valid), { qos: 1 });
    await waitFor(() => rejected.length === 1, { what: 'onRejected' });
    assert.deepEqual(rejected, [valid]);
    assert.equal(logger.warnings.filter((w) => w === 'ignoring invalid message from server').length, 2);
  });

  it('refuses a client without a certificate', async () => {
    const client = mqtt.connect(broker.tlsUrl, {
      ca: broker.pki.chainPem,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    let connected = false;
    let closed = false;
    client.on('connect', () => (connected = true));
    client.on('error', () => undefined);
    client.on('close', () => (closed = true));
    await waitFor(() => closed, { what: 'certificate-less client to be dropped' });
    assert.equal(connected, false);
    await client.endAsync(true);
  });

  it('reconnects by itself after the broker restarts, and stop() ends reconnecting', async () => {
    // Reconnect timers are manual so the observer is back and subscribed before the agent
    // reconnects; otherwise the report sent on reconnect could race the observer.
    const manual = manualTimers();
    const { agent } = await startAgent('dev-restart', { timers: manual.timers });
    await waitFor(() => reportsOf(observer.messages, 'dev-restart').length === 1, { what: 'first report' });
    await broker.kill();
    await waitFor(() => !agent.isConnected(), { what: 'agent to notice the broker is gone' });
    // random() is 0.5 and initialMs 50: the first retry waits half of 50 ms (full jitter).
    assert.ok(manual.runTimeouts().includes(25));
    await waitFor(() => manual.runTimeouts().length > 0, { what: 'a second, failed attempt' });
    await broker.start();
    await waitFor(() => observer.client.connected, { what: 'observer reconnected' });
    await observer.client.subscribeAsync('fl/d/#', { qos: 1 });
    await waitFor(
      () => {
        manual.runTimeouts();
        return agent.isConnected();
      },
      { what: 'agent to reconnect' },
    );
    await waitFor(() => reportsOf(observer.messages, 'dev-restart').length === 2, {
      what: 'state/reported after reconnect',
    });
    const reports = reportsOf(observer.messages, 'dev-restart');
    assert.ok((reports[1]?.seq ?? 0) > (reports[0]?.seq ?? 0));

    await agent.stop();
    assert.equal(agent.isConnected(), false);
    assert.equal(manual.activeIntervals(), 0);
    manual.runTimeouts();
    assert.equal(agent.isConnected(), false);
  });
});
