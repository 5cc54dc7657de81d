import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVersion, versionKeyOf } from '../../src/fleet-query/semver.ts';
import { semverCases } from './semver-cases.ts';

describe('semver sort keys', () => {
  it('order versions by semver precedence, not as text', () => {
    for (const ordered of semverCases) {
      const keys = ordered.map((version) => versionKeyOf(version) ?? assert.fail(version));
      for (let i = 1; i < keys.length; i++) {
        const [lower = '', higher = ''] = [keys[i - 1], keys[i]];
        assert.ok(lower < higher, `${ordered[i - 1]} < ${ordered[i]}`);
      }
    }
  });

  it('compares 2.10.0 above 2.9.0 and a pre-release below its release', () => {
    const key = (v: string) => versionKeyOf(v) ?? '';
    assert.ok(key('2.10.0') > key('2.9.0'));
    assert.ok(key('2.4.0-rc.1') < key('2.4.0'));
    assert.ok(key('2.4.0-rc.2') < key('2.4.0-rc.10'));
    assert.ok(key('2.4.0-rc.1') > key('2.3.99'));
  });

  it('ignores build metadata', () => {
    assert.equal(versionKeyOf('1.0.0+build.7'), versionKeyOf('1.0.0'));
    assert.equal(versionKeyOf('1.0.0-rc.1+x'), versionKeyOf('1.0.0-rc.1'));
  });

  it('refuses text that is not a semantic version', () => {
    for (const text of [
      '',
      '2.4',
      '2.4.0.1',
      '02.4.0',
      '2.4.0-',
      '2.4.0-01',
      '2.4.0+',
      'v2.4.0',
      '1.0.0-a..b',
    ]) {
      assert.equal(parseVersion(text), undefined, text);
    }
  });
});
