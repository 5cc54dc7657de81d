/** The decisions follow the inputs, and the cost model grows linearly with the fleet. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROL_PLANE_VCPU, FLEET_SIZES, marginalCosts } from '../../src/plan/cost-model.ts';
import { DAYS_PER_MONTH } from '../../src/plan/traffic.ts';
import { benchmarks, EXAMPLES, loadExample, plan, variant } from './plan-fixtures.ts';

const close = (actual: number, expected: number, relative = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * relative, `${actual} ≉ ${expected}`);

describe('cost model', () => {
  for (const name of EXAMPLES) {
    it(`${name}: monthly cost = fixed control plane + a constant per device, at 1K/10K/100K/1M`, async () => {
      const built = plan(await loadExample(name), await benchmarks());
      const rows = built.costs.selfHosted;
      assert.deepEqual(
        rows.map((r) => r.devices),
        [...FLEET_SIZES],
      );
      const fixed = CONTROL_PLANE_VCPU * built.prices.vmPerVcpuMonth;
      const perDevice = rows.map((r) => (r.monthly - fixed) / r.devices);
      for (const value of perDevice) close(value, perDevice[0]!);
      const marginal = marginalCosts(rows);
      for (const m of marginal) close(m, perDevice[0]!);
      // Ten times the devices: ten times the variable cost, every step.
      for (let i = 1; i < rows.length; i += 1)
        close(rows[i]!.monthly - fixed, 10 * (rows[i - 1]!.monthly - fixed));
      // Cost per device falls as the fixed part is shared, never rises.
      for (let i = 1; i < rows.length; i += 1) assert.ok(rows[i]!.perDevice < rows[i - 1]!.perDevice);
    });
  }

  it('storage, egress and vCPU are the sum of their parts', async () => {
    const built = plan(await loadExample('plan-cellular-1m'), await benchmarks());
    for (const r of built.costs.selfHosted) {
      close(r.monthly, r.compute + r.storage + r.egress);
      close(r.compute, r.totalVcpu * built.prices.vmPerVcpuMonth);
      close(r.storageGB, (r.devices * built.traffic.storedBytes) / 1e9);
      assert.equal(r.nodes, Math.ceil(r.totalVcpu / 8));
    }
  });

  it('price overrides change the cost and are cited as the input', async () => {
    const bench = await benchmarks();
    const base = plan(await loadExample('plan-wifi-small'), bench);
    const cheap = plan(
      await variant('plan-wifi-small', { prices: { vmPerVcpuMonth: 10, source: 'our contract, 2026' } }),
      bench,
    );
    assert.ok(cheap.costs.selfHosted[0]!.compute < base.costs.selfHosted[0]!.compute);
    close(cheap.costs.selfHosted[0]!.compute, cheap.costs.selfHosted[0]!.totalVcpu * 10);
    assert.ok(cheap.overriddenPrices.has('vmPerVcpuMonth'));
  });

  it('AWS IoT Core: connection-minutes only for a persistent session; messages in 5 KB units', async () => {
    const bench = await benchmarks();
    const mqtt = plan(await loadExample('plan-wifi-small'), bench);
    const https = plan(await loadExample('plan-nbiot-battery'), bench);
    assert.equal(https.traffic.connectedMinutesPerMonth, 0);
    close(mqtt.traffic.connectedMinutesPerMonth, DAYS_PER_MONTH * 24 * 60);
    const aws = mqtt.costs.aws[0]!;
    const t = mqtt.traffic;
    const messages =
      1000 *
      (t.telemetryMessagesPerDay * Math.ceil(t.telemetryMessageBytes / 5120) + t.otherMessagesPerDay) *
      DAYS_PER_MONTH;
    const expected =
      (1000 * t.connectedMinutesPerMonth * 0.08) / 1e6 +
      messages / 1e6 +
      (1000 * t.telemetryMessagesPerDay * DAYS_PER_MONTH * 0.3) / 1e6;
    close(aws.monthly, expected);
  });

  it('Azure IoT Hub: the cheapest tier whose units cover the daily messages', async () => {
    const built = plan(await loadExample('plan-nbiot-battery'), await benchmarks());
    // 1K devices × 8 messages a day fits one S1 unit (400,000/day).
    assert.equal(built.costs.azure[0]!.monthly, 25);
    assert.match(built.costs.azure[0]!.detail, /^S1 × 1/);
    for (const row of built.costs.azure) assert.ok(row.monthly > 0);
  });
});

describe('decisions', () => {
  it('two slots when the flash holds two images; single slot + recovery, with the risk, when it does not', async () => {
    const bench = await benchmarks();
    const ab = plan(await loadExample('plan-wifi-small'), bench);
    assert.equal(ab.ota.scheme, 'a/b');
    const nb = plan(await loadExample('plan-nbiot-battery'), bench);
    assert.equal(nb.ota.scheme, 'single+recovery');
    const partition = nb.decisions.find((d) => d.topic === 'partition scheme');
    assert.match(partition!.reason, /Risk: the running image is overwritten/);
  });

  it('a metered narrow-band link: deltas mandatory, longer windows, HTTPS batches, bytes per device per month', async () => {
    const nb = plan(await loadExample('plan-nbiot-battery'), await benchmarks());
    assert.equal(nb.ota.deltasMandatory, true);
    assert.equal(nb.telemetry.transport, 'https');
    assert.equal(nb.telemetry.settings.health.windowMs, 3_600_000);
    assert.equal(nb.telemetry.settings.sendMs, 6 * 3_600_000);
    assert.equal(nb.traffic.telemetryMessagesPerDay, 4);
    assert.ok(nb.traffic.bytesPerMonth > 0 && nb.traffic.bytesPerMonth < 2 * 1024 * 1024);
    close(nb.traffic.dataCostPerMonth, (nb.traffic.bytesPerMonth / 1024 / 1024) * 0.25);
    // The unmetered Wi-Fi fleet keeps the agent's defaults and its MQTT session.
    const wifi = plan(await loadExample('plan-wifi-small'), await benchmarks());
    assert.equal(wifi.ota.deltasMandatory, false);
    assert.equal(wifi.telemetry.transport, 'mqtt');
    assert.equal(wifi.telemetry.settings.sendMs, 30_000);
    // The agent's defaults give the bench's measured 1,440 batches a day.
    assert.equal(
      wifi.traffic.telemetryMessagesPerDay,
      (await benchmarks()).telemetry.bytesPerDevicePerDay.aggregated.messages,
    );
  });

  it('deltas "auto" on a metered link is a warning, "never" an error', async () => {
    const bench = await benchmarks();
    const auto = plan(await variant('plan-nbiot-battery', { 'configuration.update.deltas': 'auto' }), bench);
    assert.ok(
      auto.findings.some((f) => f.field === 'configuration.update.deltas' && f.severity === 'warning'),
    );
    const never = plan(
      await variant('plan-nbiot-battery', { 'configuration.update.deltas': 'never' }),
      bench,
    );
    assert.ok(
      never.findings.some((f) => f.field === 'configuration.update.deltas' && f.severity === 'error'),
    );
    assert.equal(never.ota.downloadFraction, 1);
  });

  it('a rollback mandate with one slot and no recovery partition is a blocking finding', async () => {
    const built = plan(
      await variant('plan-cellular-1m', { 'hardware.storage': { flashMiB: 256, recoveryPartitionMiB: 0 } }),
      await benchmarks(),
    );
    assert.equal(built.ota.scheme, 'single');
    const finding = built.findings.find((f) => f.field === 'regulatory.rollbackMandate');
    assert.ok(finding?.severity === 'error');
    assert.match(finding.message, /nothing to roll back to/);
  });

  it('a mandate with automatic rollback disabled is a blocking finding naming the configuration field', async () => {
    const built = plan(
      await variant('plan-cellular-1m', { 'configuration.update.automaticRollback': false }),
      await benchmarks(),
    );
    assert.ok(
      built.findings.some(
        (f) => f.field === 'configuration.update.automaticRollback' && f.severity === 'error',
      ),
    );
  });

  it('monitoring intervals shorter than the chosen sampling become per-metric overrides', async () => {
    const built = plan(
      await variant('plan-nbiot-battery', {
        'monitoring.metrics': [{ metric: 'battery', intervalS: 60, threshold: '< 15', severity: 'warning' }],
      }),
      await benchmarks(),
    );
    assert.deepEqual(built.telemetry.settings.metrics['battery_pct'], {
      sampleMs: 60_000,
      windowMs: 3_600_000,
    });
  });

  it('monitoring requirements are checked against the rules and the escalation', async () => {
    const bench = await benchmarks();
    const mismatch = plan(
      await variant('plan-cellular-1m', {
        'monitoring.metrics': [
          { metric: 'error_rate', intervalS: 60, threshold: '> 5', severity: 'critical' },
        ],
      }),
      bench,
    );
    const threshold = mismatch.findings.find((f) => f.field === 'monitoring.metrics.0');
    assert.match(threshold?.message ?? '', /rule "meter-errors" has >2 for critical/);
    // 60 s evaluation + the 10 min "for" of the critical rule: more than 5 minutes.
    const slow = plan(await variant('plan-cellular-1m', { 'monitoring.criticalResponseMin': 5 }), bench);
    const response = slow.findings.find((f) => f.field === 'monitoring.criticalResponseMin');
    assert.equal(response?.severity, 'error');
    assert.match(response?.message ?? '', /take up to 11 min/);
    const none = plan(await variant('plan-wifi-small', { 'monitoring.metrics': [] }), bench);
    assert.ok(none.findings.some((f) => f.field === 'monitoring.metrics' && f.severity === 'warning'));
  });
});
