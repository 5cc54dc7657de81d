// End to end: anomaly detection and the shipped alert rules over a simulated fleet that sends real
// telemetry (agent aggregation, outbox and MQTT acks into the server's ingest and store) and
// connects over real MQTT/TLS. A healthy phase must raise no alert at all (the false positives of
// this run); then three faults are planted at once — a batch of failing batteries, a region going
// offline, a firmware whose error rate rises — and exactly the expected alerts must open, no others.
// Telemetry windows of one second and detector windows of seconds stand in for 5-minute windows and
// hours; the default rules keep their thresholds, with durations of seconds (the error-rate rule's
// threshold is raised to 100 per 100 samples, above this fleet's compressed-time baseline of 50).
//
// Each kind of alert is one entry of `raisers` (rule prefix + expected keys).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentLogger } from '../../src/agent/types.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { simulatedFleet } from '../../src/sim/attributes.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const DEVICES = 90;
// This seed gives 13 devices in eu-north (whose sites have fewer than 10 each), 37 tracker-2 on
// 2.4.1 (31 outside eu-north) and 31 sensor-mini on 3.0.2.
const SEED = 33;
const OFFLINE_REGION = 'eu-north';
const FAILING_FIRMWARE = '3.0.2';
const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };

interface AlertView {
  rule: string;
  state: string;
  subject: { kind: string; id: string };
  detail: string;
  details: Record<string, unknown>;
}

const keyOf = (a: Pick<AlertView, 'rule' | 'subject'>) => `${a.rule}|${a.subject.kind}:${a.subject.id}`;

describe('anomaly detection over a simulated fleet with planted faults', { timeout: 180_000 }, () => {
  let fx: ServerFixture;
  let sim: SimulationHandle | undefined;
  const fleet = simulatedFleet(DEVICES, SEED);
  const regionDevices = fleet.filter((d) => d.region === OFFLINE_REGION).map((d) => d.deviceId);
  const batteryBatch = fleet
    .filter((d) => d.hardware.model === 'tracker-2' && d.firmwareVersion === '2.4.1')
    .filter((d) => d.region !== OFFLINE_REGION)
    .slice(0, 5)
    .map((d) => d.deviceId);
  const erring = fleet.filter((d) => d.firmwareVersion === FAILING_FIRMWARE).map((d) => d.deviceId);

  const erringOnline = erring.filter((id) => !regionDevices.includes(id));

  /** Every alert, whatever raised it (anomaly detectors and alert rules). */
  async function allAlerts(): Promise<AlertView[]> {
    const res = await fx.request('GET', '/api/v1/alerts?limit=1000');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body['items'] as AlertView[];
  }
  const anomalyAlerts = async () => (await allAlerts()).filter((a) => a.rule.startsWith('anomaly.'));

  async function evaluations(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${fx.httpPort}/metrics`)).text();
    return Number(/^flotilla_anomaly_evaluation_duration_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
  }

  before(async () => {
    assert.equal(regionDevices.length, 13);
    assert.equal(batteryBatch.length, 5);
    assert.equal(erring.length, 31);
    fx = await createServerFixture({
      alerts: { evaluationIntervalS: 1 },
      anomaly: {
        intervalS: 0.5,
        // Seconds instead of an hour: the fleet reports every second.
        peerOutliers: { windowS: 6, minPeers: 20, persistence: 3 },
        offlineClusters: { windowS: 10 },
        errorRate: { windowS: 3, baselineS: 12, minBaselineSamples: 200 },
      },
    });
    sim = await startSimulation(deps, {
      devices: DEVICES,
      seed: SEED,
      serverUrl: `mqtts://127.0.0.1:${fx.mqttPort}`,
      dataDir: fx.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      // Two errors a second per device; the battery drains 0.5 %/h as usual.
      telemetry: { sampleMs: 250, windowMs: 1000, sendMs: 1000, errorRatePerS: 2 },
    });
    await sim.ramped;
    await waitFor(() => sim?.connectedCount() === sim?.agents.length, { timeoutMs: 60_000 });
    // The shipped rules, with durations of seconds to match the compressed time.
    for (const [name, patch] of [
      ['battery-low', { for: '2s' }],
      ['fleet-online-low', { for: '2s' }],
      // 8 s: the first seconds of a device's hour hold few samples, so its rate is noisy.
      ['device-error-rate-high', { for: '8s', levels: [{ severity: 'warning', threshold: 100 }] }],
    ] as const) {
      const res = await fx.request('PATCH', `/api/v1/alert-rules/${name}`, patch);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  });

  after(async () => {
    await sim?.stop();
    await fx?.close();
  });

  it('raises no alert while the fleet is healthy', async () => {
    // Long enough for every detector to judge: a full error-rate baseline and window, and many
    // peer-outlier evaluations.
    const from = await evaluations();
    await new Promise((resolve) => setTimeout(resolve, 16_000));
    assert.ok((await evaluations()) - from >= 20, 'the detectors ran');
    assert.deepEqual((await allAlerts()).map(keyOf), []);
  });

  it('raises exactly the expected alerts for a failing battery batch, a region offline and a bad firmware', async () => {
    const raisers = [
      {
        rulePrefix: 'anomaly.',
        expected: [
          ...batteryBatch.map((id) => `anomaly.peer-outlier|device:${id}`),
          `anomaly.offline-cluster|group:region=${OFFLINE_REGION}`,
          `anomaly.error-rate|group:firmware=${FAILING_FIRMWARE}`,
        ],
      },
      { rulePrefix: 'battery-low', expected: batteryBatch.map((id) => `battery-low|device:${id}`) },
      { rulePrefix: 'fleet-online-low', expected: ['fleet-online-low|fleet:fleet'] },
      {
        rulePrefix: 'device-error-rate-high',
        expected: erringOnline.map((id) => `device-error-rate-high|device:${id}`),
      },
    ];
    // A dying cell: 250 % a minute (30,000 × 0.5 %/h): below 10 % within half a minute.
    sim?.plantFault(batteryBatch, { batteryDrainFactor: 30_000 });
    // Errors rise to eight times the usual rate over three seconds.
    sim?.plantFault(erring, { errorFactor: 8, errorRampMs: 3000 });
    await sim?.disconnect(regionDevices);

    const expected = new Set(raisers.flatMap((r) => r.expected));
    let seen: AlertView[] = [];
    await waitFor(
      async () => {
        seen = await allAlerts();
        const keys = new Set(seen.map(keyOf));
        return [...expected].every((key) => keys.has(key));
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'the expected alerts' },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(seen.map(keyOf))}`);
    });
    // A few more evaluations: anything else would show up now.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    seen = await allAlerts();
    for (const raiser of raisers)
      assert.deepEqual(
        [...new Set(seen.filter((a) => a.rule.startsWith(raiser.rulePrefix)).map(keyOf))].sort(),
        [...raiser.expected].sort(),
      );
    assert.deepEqual([...new Set(seen.map(keyOf))].sort(), [...expected].sort(), 'and no other alert');
    const battery = seen.filter((a) => a.rule === 'battery-low');
    assert.ok(
      battery.every((a) => a.state !== 'resolved'),
      'dead batteries stay alerted',
    );

    const cluster = seen.find((a) => a.rule === 'anomaly.offline-cluster');
    assert.equal(cluster?.details['factor'], 'region');
    assert.equal(cluster.details['count'], regionDevices.length);
    assert.deepEqual(cluster.details['deviceIds'], [...regionDevices].sort());
    assert.match(cluster.detail, /13 of the 13 online devices of region=eu-north \(100 %\)/);
    for (const id of batteryBatch) {
      const outlier = seen.find((a) => a.rule === 'anomaly.peer-outlier' && a.subject.id === id);
      assert.match(outlier?.detail ?? '', /battery_drain/);
    }
  });

  it('clears the offline cluster once the region is back', async () => {
    sim?.reconnect(regionDevices);
    await waitFor(
      async () =>
        (await anomalyAlerts()).some((a) => a.rule === 'anomaly.offline-cluster' && a.state === 'resolved'),
      { timeoutMs: 30_000, intervalMs: 250, what: 'the offline cluster to clear' },
    );
  });
});
