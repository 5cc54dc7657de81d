import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  deviceSelectorSchema,
  matchesSelector,
  type SelectableDevice,
} from '../../src/ota/rollouts/device-selector.ts';

const device: SelectableDevice = {
  id: 'dev-1',
  hardwareModel: 'tracker-2',
  hardwareRevision: 'B',
  firmwareVersion: '2.3.0',
  tags: { site: 'north', ring: 'beta' },
  region: 'eu-west',
  owner: 'acme',
};

const matches = (selector: unknown, d: SelectableDevice = device): boolean =>
  matchesSelector(deviceSelectorSchema.parse(selector), d);

describe('matchesSelector', () => {
  it('matches every device with an empty selector', () => {
    assert.equal(matches({}), true);
  });

  it('matches any of the values within a field', () => {
    assert.equal(matches({ models: ['sensor-mini', 'tracker-2'] }), true);
    assert.equal(matches({ revisions: ['A'] }), false);
    assert.equal(matches({ firmwareVersions: ['2.3.0'] }), true);
    assert.equal(matches({ regions: ['us-east'] }), false);
    assert.equal(matches({ deviceIds: ['dev-1', 'dev-2'] }), true);
    assert.equal(matches({ owner: 'acme' }), true);
    assert.equal(matches({ owner: 'other' }), false);
  });

  it('AND-combines the fields and requires every tag', () => {
    assert.equal(matches({ models: ['tracker-2'], regions: ['eu-west'], tags: { site: 'north' } }), true);
    assert.equal(matches({ models: ['tracker-2'], regions: ['us-east'] }), false);
    assert.equal(matches({ tags: { site: 'north', ring: 'stable' } }), false);
    assert.equal(matches({ tags: { missing: '' } }), false);
  });

  it('never matches a null field against a list', () => {
    const bare = { ...device, hardwareRevision: null, region: null, owner: null, firmwareVersion: null };
    assert.equal(matches({ revisions: ['B'] }, bare), false);
    assert.equal(matches({ regions: ['eu-west'] }, bare), false);
    assert.equal(matches({ firmwareVersions: ['2.3.0'] }, bare), false);
    assert.equal(matches({ owner: 'acme' }, bare), false);
    assert.equal(matches({ models: ['tracker-2'] }, bare), true);
  });
});
