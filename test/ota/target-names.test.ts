import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/infra/errors.ts';
import { metadataFile, targetFile } from '../../src/ota/delivery/tuf-files.ts';
import { deltaTargetName, imageTargetName } from '../../src/ota/metadata/target-names.ts';

describe('TUF target names', () => {
  it('names full images and deltas, replacing semver build metadata `+`', () => {
    assert.equal(imageTargetName('tracker-2', '2.4.1'), 'tracker-2_2.4.1.img');
    assert.equal(imageTargetName('tracker-2', '2.5.0-rc.1+b7'), 'tracker-2_2.5.0-rc.1_b7.img');
    assert.equal(deltaTargetName('tracker-2', '2.4.0', '2.4.1'), 'tracker-2_2.4.0_to_2.4.1.bsdiff');
  });

  it('refuses a model that would not make a flat file name', () => {
    assert.throws(() => imageTargetName('../etc', '1.0.0'), ValidationError);
    assert.throws(() => imageTargetName('a b', '1.0.0'), ValidationError);
    assert.throws(() => deltaTargetName('m'.repeat(120), '1.0.0', '1.0.1'), ValidationError);
  });
});

describe('served TUF file names', () => {
  it('accepts only metadata files the repository writes, with their caching', () => {
    assert.deepEqual(metadataFile('timestamp.json'), { name: 'timestamp.json', cacheControl: 'no-cache' });
    assert.equal(metadataFile('root.json')?.cacheControl, 'no-cache');
    assert.equal(metadataFile('12.targets.json')?.cacheControl, 'public, max-age=31536000, immutable');
    for (const bad of ['0.root.json', '1.timestamp.json', '../root.json', 'x.json', '1.root.json.tmp']) {
      assert.equal(metadataFile(bad), undefined, bad);
    }
  });

  it('splits consistent target file names', () => {
    const sha = 'ab'.repeat(32);
    assert.deepEqual(targetFile(`${sha}.t_1.0.0.img`), { sha256: sha, name: 't_1.0.0.img' });
    assert.equal(targetFile(`${sha}.../x`), undefined);
    assert.equal(targetFile('abc.t.img'), undefined);
  });
});
