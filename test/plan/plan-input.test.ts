/** The input schema: every error names its field; YAML and JSON are both accepted. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ValidationError } from '../../src/infra/errors.ts';
import { parsePlanInputText } from '../../src/plan/index.ts';
import { exampleFile, loadExample, withChanges } from './plan-fixtures.ts';

const minimal = {
  name: 'minimal',
  fleet: { devicesNow: 10, devicesProjected: 100 },
  hardware: {
    storage: { flashMiB: 64 },
    ramMiB: 64,
    connectivity: { kind: 'wifi', bandwidthKbps: 1000 },
    computeClass: 'embedded-linux',
  },
  firmware: { imageMiB: 16, updatesPerYear: 4 },
};

function messageOf(changes: Record<string, unknown>): string {
  const doc = withChanges(minimal, changes);
  try {
    parsePlanInputText(JSON.stringify(doc), 'test.json');
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return err.message;
  }
  assert.fail('expected a ValidationError');
}

describe('plan input', () => {
  it('a minimal document is valid; the rest are defaults', () => {
    const input = parsePlanInputText(JSON.stringify(minimal), 'm.json');
    assert.equal(input.configuration.update.automaticRollback, true);
    assert.equal(input.configuration.rollouts.stages.length, 4);
    assert.equal(input.configuration.server.store.kind, 'sqlite');
    assert.equal(input.hardware.connectivity.dataCostPerMiB, 0);
  });

  it('YAML and the same document as JSON give the same input', async () => {
    const yamlText = await readFile(exampleFile('plan-cellular-1m'), 'utf8');
    const fromYaml = parsePlanInputText(yamlText, 'a.yaml');
    const fromJson = parsePlanInputText(JSON.stringify(await loadExample('plan-cellular-1m')), 'a.json');
    assert.deepEqual(fromJson, fromYaml);
    assert.deepEqual(
      parsePlanInputText(stringify(minimal), 'm.yaml'),
      parsePlanInputText(JSON.stringify(minimal), 'm.json'),
    );
  });

  it('names the field of a bad value', () => {
    assert.match(
      messageOf({ 'hardware.storage.flashMiB': -1 }),
      /hardware\.storage\.flashMiB: expected a positive number/,
    );
    assert.match(
      messageOf({ 'hardware.storage.flashMiB': 'lots' }),
      /hardware\.storage\.flashMiB: expected a positive number/,
    );
    assert.match(
      messageOf({ 'hardware.connectivity.kind': 'zigbee' }),
      /hardware\.connectivity\.kind: expected one of wifi/,
    );
    assert.match(messageOf({ 'fleet.devicesNow': 1.5 }), /fleet\.devicesNow: expected a whole number/);
    assert.match(messageOf({ firmware: undefined }), /firmware: /);
    assert.match(messageOf({ 'fleet.extra': 1 }), /fleet: .*extra/);
    assert.match(messageOf({ prices: { egressPerGB: -1 } }), /prices\.egressPerGB: expected a price ≥ 0/);
  });

  it("names fields inside the embedded Flotilla configuration (the server's and the agent's own schemas)", () => {
    assert.match(
      messageOf({ 'configuration.server.store.kind': 'postgres' }),
      /configuration\.server\.store\.postgresUrl/,
    );
    assert.match(
      messageOf({ 'configuration.rollouts.stages': [{ percent: 10, count: 5 }] }),
      /configuration\.rollouts\.stages\.0: a stage has exactly one of percent and count/,
    );
    assert.match(
      messageOf({ 'configuration.agent.telemetry.health': { sampleS: 7, windowS: 60 } }),
      /configuration\.agent\.telemetry: health: window/,
    );
    assert.match(
      messageOf({
        'monitoring.metrics': [{ metric: 'battery', intervalS: 60, threshold: 'low', severity: 'warning' }],
      }),
      /monitoring\.metrics\.0\.threshold: expected an operator and a value/,
    );
  });

  it('lists every problem at once', () => {
    const message = messageOf({ 'hardware.ramMiB': 0, 'firmware.imageMiB': 0 });
    assert.match(message, /hardware\.ramMiB/);
    assert.match(message, /firmware\.imageMiB/);
  });

  it('text that is neither YAML nor JSON is refused naming the file', () => {
    assert.throws(() => parsePlanInputText('a: [1, 2', 'broken.yaml'), /broken\.yaml: not YAML or JSON/);
  });
});
