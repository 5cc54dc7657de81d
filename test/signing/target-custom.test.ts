import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/infra/errors.ts';
import { parseTargetCustom } from '../../src/signing/tuf/target-custom.ts';

const hardware = { model: 'tracker', revisions: ['A'] };
const sha = (c: string) => c.repeat(64);

describe('target custom fields', () => {
  it('reads an object without kind as an image (metadata written before deltas)', () => {
    const custom = parseTargetCustom({ version: '1.0.0', hardware, mandatory: true });
    assert.equal(custom.kind, undefined);
    assert.deepEqual(custom, { version: '1.0.0', hardware, mandatory: true });
  });

  it('keeps the signed downgrade policy of an image', () => {
    const custom = parseTargetCustom({ kind: 'image', version: '0.9.0', hardware, allowDowngrade: true });
    assert.ok(custom.kind === 'image' && custom.allowDowngrade === true);
  });

  it('reads a delta with its base and the full image it produces', () => {
    const delta = {
      kind: 'delta',
      version: '1.1.0',
      hardware,
      base: { version: '1.0.0', sha256: sha('a') },
      target: { name: 'tracker_1.1.0.img', sha256: sha('b'), length: 10 },
    };
    assert.deepEqual(parseTargetCustom(delta), delta);
  });

  it('refuses a delta without its base hash, or an unknown kind', () => {
    const bad = [
      { kind: 'delta', version: '1.1.0', hardware, base: { version: '1.0.0' }, target: {} },
      { kind: 'delta', version: '1.1.0', hardware, base: { version: '1.0.0', sha256: 'x' }, target: {} },
      { kind: 'script', version: '1.0.0', hardware },
      { version: '1.0.0' },
    ];
    for (const custom of bad) assert.throws(() => parseTargetCustom(custom), ValidationError);
  });
});
