import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deltaWorthIt, selectDeltaBases } from '../../src/ota/delta/delta-selection.ts';

const release = (version: string, sha = version) => ({ version, sha256: sha.padEnd(64, '0') });

describe('selectDeltaBases', () => {
  const releases = [release('1.0.0'), release('1.1.0'), release('1.2.0'), release('2.0.0')];
  const target = release('2.0.0');

  it('picks installed, released versions below the target, newest first', () => {
    const installed = new Map([
      ['1.0.0', 3],
      ['1.2.0', 1],
      ['0.9.0', 5], // no release: no image to diff from
      ['2.0.0', 2], // already there
      ['3.0.0', 1], // newer
      ['garbage', 1],
    ]);
    assert.deepEqual(
      selectDeltaBases({ target, installed, releases }).map((b) => b.version),
      ['1.2.0', '1.0.0'],
    );
  });

  it('builds only the requested bases when asked, installed or not', () => {
    const bases = selectDeltaBases({ target, installed: new Map(), releases, requested: ['1.1.0', '1.1.0'] });
    assert.deepEqual(
      bases.map((b) => b.version),
      ['1.1.0'],
    );
  });

  it('skips a base with the same image bytes as the target', () => {
    const same = [release('1.0.0', 'x'), release('2.0.0', 'x')];
    assert.deepEqual(
      selectDeltaBases({ target: release('2.0.0', 'x'), installed: new Map([['1.0.0', 1]]), releases: same }),
      [],
    );
  });

  it('keeps a patch only when under 90 % of the image', () => {
    assert.equal(deltaWorthIt(89, 100), true);
    assert.equal(deltaWorthIt(90, 100), false);
  });
});
