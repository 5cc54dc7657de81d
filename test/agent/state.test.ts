/** Pure helpers of the agent: seq, uptime, state merging, connect options. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAgent } from '../../src/agent/agent.ts';
import { buildConnectOptions, parseServerUrl } from '../../src/agent/connect-options.ts';
import { parseRejected } from '../../src/agent/inbound.ts';
import { mergeState, nextSeq, uptimeSeconds, validateState } from '../../src/agent/state.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import type { AgentOptions, DeviceState } from '../../src/agent/types.ts';
import { ValidationError } from '../../src/infra/errors.ts';

const base: DeviceState = {
  firmwareVersion: '1.0.0',
  hardware: { model: 'sensor-mini', revision: 'A' },
  serial: 'SN1',
  region: 'eu-west',
};

describe('agent state helpers', () => {
  it('seq follows the wall clock, so a restarted agent continues above the old seq', () => {
    const beforeRestart = nextSeq(nextSeq(undefined, 1_000), 1_000);
    assert.equal(beforeRestart, 1_001);
    // A new process knows no lastSeq; later wall-clock time still beats the old seq.
    assert.ok(nextSeq(undefined, 5_000) > beforeRestart);
    // Clock stepping back within one run: seq still increases.
    assert.equal(nextSeq(9_000, 2_000), 9_001);
  });

  it('uptime is whole seconds and never negative', () => {
    assert.equal(uptimeSeconds(1_000, 62_999), 61);
    assert.equal(uptimeSeconds(5_000, 1_000), 0);
  });

  it('mergeState reports changes only when something differs', () => {
    assert.equal(mergeState(base, { region: 'eu-west' }).changed, false);
    assert.equal(mergeState(base, { hardware: { model: 'sensor-mini', revision: 'A' } }).changed, false);
    const changed = mergeState(base, { tags: { site: 'x' } });
    assert.equal(changed.changed, true);
    assert.deepEqual(changed.state.tags, { site: 'x' });
    const cleared = mergeState(base, { region: undefined });
    assert.equal(cleared.changed, true);
    assert.equal('region' in cleared.state, false);
  });

  it('validateState names the bad field', () => {
    assert.throws(
      () => validateState({ ...base, tags: { 'Bad Key': 'v' } }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /tags\.Bad Key/);
        return true;
      },
    );
  });

  it('parseRejected accepts only schema-valid JSON', () => {
    const ok = parseRejected(Buffer.from('{"topic":"t","code":"unknown_topic","message":"m"}'));
    assert.deepEqual(ok, { ok: true, value: { topic: 't', code: 'unknown_topic', message: 'm' } });
    assert.equal(parseRejected(Buffer.from('nope')).ok, false);
    assert.equal(parseRejected(Buffer.from('{"topic":"t","code":"other","message":"m"}')).ok, false);
  });
});

describe('connect options', () => {
  const options = (serverUrl: string): AgentOptions => ({
    deviceId: 'dev1',
    serverUrl,
    tls: { caPem: 'CA', certPem: 'CERT', keyPem: 'KEY' },
    identity: { serial: 'SN1', hardware: { model: 'm', revision: 'r' } },
    firmwareVersion: '1.0.0',
  });

  it('uses MQTT 3.1.1, the device id as client id, no built-in reconnect, strict TLS', () => {
    const o = buildConnectOptions(options('mqtts://fleet.example.com:8884'), 30);
    assert.equal(o.protocolVersion, 4);
    assert.equal(o.clientId, 'dev1');
    assert.equal(o.reconnectPeriod, 0);
    assert.equal(o.rejectUnauthorized, true);
    assert.equal(o.keepalive, 30);
    assert.equal(o.servername, 'fleet.example.com');
    assert.deepEqual([o.host, o.port], ['fleet.example.com', 8884]);
  });

  it('sends no SNI for IP addresses and strips IPv6 brackets', () => {
    assert.equal(buildConnectOptions(options('mqtts://127.0.0.1:8883'), 60).servername, undefined);
    assert.deepEqual(parseServerUrl('mqtts://[::1]'), { host: '::1', port: 8883 });
  });

  it('refuses anything but mqtts://', () => {
    assert.throws(() => parseServerUrl('mqtt://localhost:1883'), /mqtts/);
    assert.throws(() => parseServerUrl('localhost:8883'), /mqtts/);
  });

  it('fails fast on a bad server URL or unreadable TLS material', () => {
    const noop = () => undefined;
    const deps = {
      clock: { now: () => 0 },
      timers: systemTimers,
      random: () => 0,
      logger: { debug: noop, info: noop, warn: noop, error: noop },
    };
    assert.throws(() => createAgent(deps, options('mqtt://plain:1883')), /mqtts/);
    const agent = createAgent(deps, options('mqtts://127.0.0.1:1'));
    assert.throws(() => agent.start());
    assert.equal(agent.isConnected(), false);
  });
});
