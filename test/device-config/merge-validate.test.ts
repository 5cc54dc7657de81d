/** Pure tables: the precedence of config layers, validation against a declared schema, effective documents. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigKeySpec, ConfigSchema, ConfigValue } from '../../src/contracts/config-messages.ts';
import { resolveConfig } from '../../src/device-config/effective.ts';
import { editValues, mergeLayers, sameValues, type GroupLayer } from '../../src/device-config/merge.ts';
import { checkValue, schemaDefaults, validateValues } from '../../src/device-config/validate.ts';
import { deviceConfigEditSchema, bulkConfigSchema } from '../../src/device-config/config-api.ts';

const schema: ConfigSchema = {
  'telemetry.healthSampleS': { type: 'integer', min: 1, max: 3600, default: 60, apply: 'live' },
  'log.level': { type: 'enum', enum: ['debug', 'info', 'warn'], default: 'info', apply: 'restart' },
  'site.label': { type: 'string', maxLength: 8, default: '', apply: 'live' },
  'led.on': { type: 'boolean', default: true, apply: 'live' },
  'gain.db': { type: 'number', min: -1.5, max: 1.5, default: 0, apply: 'live' },
};

describe('checkValue', () => {
  const cases: Array<[string, ConfigKeySpec, ConfigValue, string | undefined]> = [
    ['integer in range', schema['telemetry.healthSampleS']!, 30, undefined],
    ['integer below min', schema['telemetry.healthSampleS']!, 0, 'must be >= 1 (min)'],
    ['integer above max', schema['telemetry.healthSampleS']!, 3601, 'must be <= 3600 (max)'],
    ['integer with a fraction', schema['telemetry.healthSampleS']!, 1.5, 'must be an integer'],
    ['integer as a string', schema['telemetry.healthSampleS']!, '30', 'must be an integer'],
    ['number in range', schema['gain.db']!, -1.25, undefined],
    ['number above max', schema['gain.db']!, 2, 'must be <= 1.5 (max)'],
    ['boolean', schema['led.on']!, false, undefined],
    ['boolean as a number', schema['led.on']!, 1, 'must be a boolean'],
    ['string within maxLength', schema['site.label']!, 'berlin', undefined],
    ['string too long', schema['site.label']!, 'berlin-west', 'must be at most 8 characters (maxLength)'],
    ['enum member', schema['log.level']!, 'warn', undefined],
    ['enum non-member', schema['log.level']!, 'trace', 'must be one of debug, info, warn (enum)'],
    ['array for a scalar', schema['log.level']!, ['info'], 'must be one of debug, info, warn (enum)'],
  ];
  for (const [name, spec, value, expected] of cases) {
    it(name, () => assert.equal(checkValue(spec, value), expected));
  }

  it('lists every refused key, unknown keys included, in key order', () => {
    assert.deepEqual(validateValues(schema, { 'zz.top': 1, 'log.level': 'trace', 'led.on': true }), [
      { key: 'log.level', reason: 'must be one of debug, info, warn (enum)' },
      { key: 'zz.top', reason: 'unknown key: not in the device schema' },
    ]);
    assert.equal(schemaDefaults(schema)['telemetry.healthSampleS'], 60);
  });
});

describe('mergeLayers', () => {
  const fleet = { a: 'fleet', b: 'fleet', c: 'fleet', d: 'fleet' };
  const groups: GroupLayer[] = [
    { name: 'zeta', priority: 1, values: { b: 'zeta', c: 'zeta' } },
    { name: 'alpha', priority: 1, values: { b: 'alpha' } },
    { name: 'low', priority: -5, values: { b: 'low', d: 'low' } },
  ];

  it('fleet < groups by ascending priority, then name < device', () => {
    const merged = mergeLayers({ fleet, groups, device: { a: 'device' } });
    assert.deepEqual(merged.values, { a: 'device', b: 'zeta', c: 'zeta', d: 'low' });
    assert.deepEqual(merged.sources, {
      a: { kind: 'device' },
      b: { kind: 'group', name: 'zeta' },
      c: { kind: 'group', name: 'zeta' },
      d: { kind: 'group', name: 'low' },
    });
  });

  it('a higher priority beats name order', () => {
    const merged = mergeLayers({ groups: [...groups, { name: 'aaa', priority: 2, values: { b: 'aaa' } }] });
    assert.deepEqual(merged.sources.b, { kind: 'group', name: 'aaa' });
  });

  it('works with no layers at all', () => {
    assert.deepEqual(mergeLayers({ groups: [] }), { values: {}, sources: {} });
  });

  it('edits: set then unset, keys sorted', () => {
    const edited = editValues({ b: 1, a: 2 }, { set: { c: 3, a: 4 }, unset: ['b'] });
    assert.deepEqual(Object.keys(edited), ['a', 'c']);
    assert.ok(sameValues(edited, { c: 3, a: 4 }));
    assert.ok(!sameValues(edited, { a: 4 }));
  });
});

describe('resolveConfig', () => {
  it('drops keys the schema refuses and lists them as conflicts with their source', () => {
    const resolved = resolveConfig({
      fleet: { 'log.level': 'trace' },
      groups: [{ name: 'berlin', priority: 0, values: { 'telemetry.healthSampleS': 10 } }],
      device: { 'led.on': false },
      schema,
    });
    assert.deepEqual(resolved.values, { 'led.on': false, 'telemetry.healthSampleS': 10 });
    assert.deepEqual(resolved.conflicts, [
      { key: 'log.level', reason: 'must be one of debug, info, warn (enum)', source: { kind: 'fleet' } },
    ]);
  });

  it('without a schema keeps everything (validated once the device declares one)', () => {
    const resolved = resolveConfig({ fleet: { 'log.level': 'trace' }, groups: [], schema: undefined });
    assert.deepEqual(resolved.values, { 'log.level': 'trace' });
    assert.deepEqual(resolved.conflicts, []);
  });
});

describe('API bodies', () => {
  it('names the field of a bad edit', () => {
    const both = deviceConfigEditSchema.safeParse({ set: { 'a.b': 1 }, unset: ['a.b'] });
    assert.equal(both.success, false);
    assert.match(both.error?.issues[0]?.message ?? '', /a\.b is both set and unset/);
    const badKey = deviceConfigEditSchema.safeParse({ set: { 'Bad Key': 1 } });
    assert.equal(badKey.success, false);
    assert.match(JSON.stringify(badKey.error?.issues), /dotted names/);
  });

  it('bulk needs one way of choosing devices and a change', () => {
    assert.equal(bulkConfigSchema.safeParse({ set: { 'a.b': 1 } }).success, false);
    assert.equal(
      bulkConfigSchema.safeParse({ where: 'online', deviceIds: ['d1'], set: { 'a.b': 1 } }).success,
      false,
    );
    assert.equal(bulkConfigSchema.safeParse({ where: 'online' }).success, false);
    assert.equal(bulkConfigSchema.safeParse({ group: 'berlin', set: { 'a.b': 1 } }).success, true);
  });
});
