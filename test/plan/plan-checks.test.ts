/** Each quality check passes on the examples and fails, with its evidence, when the configuration breaks it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QualityCheckName } from '../../src/plan/quality-checks.ts';
import type { Plan } from '../../src/plan/index.ts';
import { benchmarks, loadExample, plan, variant, type ExampleName } from './plan-fixtures.ts';

function check(built: Plan, name: QualityCheckName) {
  const found = built.checks.find((c) => c.name === name);
  assert.ok(found, `check ${name}`);
  return found;
}

async function broken(name: ExampleName, changes: Record<string, unknown>): Promise<Plan> {
  return plan(await variant(name, changes), await benchmarks());
}

describe('quality checks', () => {
  it('all seven pass on the regulated cellular example', async () => {
    const built = await broken('plan-cellular-1m', {});
    assert.deepEqual(
      built.checks.filter((c) => !c.pass).map((c) => c.name),
      [],
    );
    assert.equal(built.checks.length, 7);
  });

  it('zero-touch provisioning fails with manual registration or manual owner assignment', async () => {
    const manual = await broken('plan-wifi-small', { 'configuration.provisioning.method': 'manual' });
    assert.equal(check(manual, 'zero-touch provisioning').pass, false);
    assert.match(check(manual, 'zero-touch provisioning').evidence, /method = manual/);
    const owner = await broken('plan-wifi-small', { 'configuration.provisioning.ownerAssignment': 'manual' });
    assert.equal(check(owner, 'zero-touch provisioning').pass, false);
  });

  it('signed and verified updates fail when signatures are off or updates disabled', async () => {
    const unsigned = await broken('plan-wifi-small', { 'configuration.update.signatures': 'none' });
    assert.equal(check(unsigned, 'signed and verified updates').pass, false);
    assert.ok(
      unsigned.findings.some((f) => f.field === 'configuration.update.signatures' && f.severity === 'error'),
    );
    const off = await broken('plan-wifi-small', { 'configuration.update.enabled': false });
    assert.equal(check(off, 'signed and verified updates').pass, false);
  });

  it('automatic rollback fails when disabled, without a health check, or with nothing to roll back to', async () => {
    const disabled = await broken('plan-cellular-1m', { 'configuration.update.automaticRollback': false });
    assert.equal(check(disabled, 'automatic rollback').pass, false);
    assert.match(check(disabled, 'automatic rollback').evidence, /automaticRollback = false/);
    const noHealth = await broken('plan-wifi-small', { 'configuration.update.healthRounds': 0 });
    assert.equal(check(noHealth, 'automatic rollback').pass, false);
    const oneSlot = await broken('plan-wifi-small', { 'hardware.storage.flashMiB': 300 });
    assert.equal(check(oneSlot, 'automatic rollback').pass, false);
    assert.match(check(oneSlot, 'automatic rollback').evidence, /one slot and no recovery partition/);
  });

  it('hold gates fail when a stage before the last has no hold and no approval, or there is one stage', async () => {
    const noHolds = await broken('plan-wifi-small', {
      'configuration.rollouts.stages': [
        { percent: 10, holdS: 0 },
        { percent: 100, holdS: 0 },
      ],
    });
    assert.equal(check(noHolds, 'hold gates between stages').pass, false);
    assert.match(check(noHolds, 'hold gates between stages').evidence, /stage 1 of 2 has no hold/);
    const approvalOnly = await broken('plan-wifi-small', {
      'configuration.rollouts.stages': [{ percent: 10, holdS: 0, manualApproval: true }, { percent: 100 }],
    });
    assert.equal(check(approvalOnly, 'hold gates between stages').pass, true);
    const single = await broken('plan-wifi-small', { 'configuration.rollouts.stages': [{ percent: 100 }] });
    assert.equal(check(single, 'hold gates between stages').pass, false);
  });

  it('device-side aggregation fails when a window holds one sample, or telemetry is off', async () => {
    const raw = await broken('plan-wifi-small', {
      'configuration.agent.telemetry': {
        health: { sampleS: 60, windowS: 60 },
        app: { sampleS: 10, windowS: 60 },
      },
    });
    assert.equal(check(raw, 'device-side aggregation').pass, false);
    assert.match(check(raw, 'device-side aggregation').evidence, /1 health samples/);
    const off = await broken('plan-wifi-small', { 'configuration.agent.telemetry': { enabled: false } });
    assert.equal(check(off, 'device-side aggregation').pass, false);
    assert.equal(off.traffic.telemetryMessagesPerDay, 0);
  });

  it('alert thresholds with escalation fail without channels, without a rule for a required metric, or with critical only logged', async () => {
    const noChannels = await broken('plan-wifi-small', {
      'configuration.server.alerts.channels': {},
      'configuration.server.alerts.escalation.policies': {},
    });
    assert.equal(check(noChannels, 'alert thresholds with escalation').pass, false);
    assert.match(check(noChannels, 'alert thresholds with escalation').evidence, /no notification channel/);
    const rules = (await loadExample('plan-wifi-small')).configuration.alertRules;
    const noRule = await broken('plan-wifi-small', {
      'configuration.alertRules': rules.filter((r) => r.metric !== 'temperature'),
    });
    assert.equal(check(noRule, 'alert thresholds with escalation').pass, false);
    assert.match(check(noRule, 'alert thresholds with escalation').evidence, /no rule watches temperature/);
    const disabled = await broken('plan-wifi-small', {
      'configuration.alertRules': rules.map((r) =>
        r.metric === 'temperature' ? { ...r, enabled: false } : r,
      ),
    });
    assert.equal(check(disabled, 'alert thresholds with escalation').pass, false);
    const logged = await broken('plan-wifi-small', {
      'configuration.server.alerts.escalation.policies.critical': [{ afterS: 0, channels: ['log'] }],
    });
    assert.equal(check(logged, 'alert thresholds with escalation').pass, false);
    assert.match(
      check(logged, 'alert thresholds with escalation').evidence,
      /critical alerts reach only the log/,
    );
  });

  it("cost linearity fails when the projected fleet passes SQLite's single writer", async () => {
    const sqlite = await broken('plan-wifi-small', { 'fleet.devicesProjected': 1_000_000 });
    const linear = check(sqlite, 'cost scales linearly');
    assert.equal(linear.pass, false);
    assert.match(linear.evidence, /SQLite's single writer/);
    assert.ok(
      sqlite.findings.some((f) => f.field === 'configuration.server.store.kind' && f.severity === 'error'),
    );
    const postgres = await broken('plan-wifi-small', {
      'fleet.devicesProjected': 1_000_000,
      'configuration.server.store': { kind: 'postgres', postgresUrl: 'postgres://x@db/flotilla' },
    });
    assert.equal(check(postgres, 'cost scales linearly').pass, true);
  });
});
