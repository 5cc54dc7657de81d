import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateUrlKey, signDownload, verifyDownload } from '../../src/ota/delivery/signed-urls.ts';

const sha = 'a'.repeat(64);

describe('signed download URLs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-urlkey-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts its own signature until the expiry, and nothing else', async () => {
    const key = await loadOrCreateUrlKey(join(dir, 'ota', 'url.key'));
    assert.equal((await stat(join(dir, 'ota', 'url.key'))).mode & 0o777, 0o600);
    assert.deepEqual(await loadOrCreateUrlKey(join(dir, 'ota', 'url.key')), key);
    const sig = signDownload(key, sha, 2_000);
    assert.deepEqual(verifyDownload(key, sha, '2000', sig, 1_999_000), { ok: true });
    assert.equal(verifyDownload(key, sha, '2000', sig, 2_000_000).ok, false, 'expired');
    assert.equal(verifyDownload(key, sha, '2001', sig, 1_000).ok, false, 'expiry changed');
    assert.equal(verifyDownload(key, 'b'.repeat(64), '2000', sig, 1_000).ok, false, 'other artifact');
    assert.equal(verifyDownload(Buffer.alloc(32), sha, '2000', sig, 1_000).ok, false, 'other key');
    assert.equal(verifyDownload(key, sha, 'soon', sig, 1_000).ok, false);
    assert.equal(verifyDownload(key, sha, '2000', 'zz', 1_000).ok, false);
  });
});
