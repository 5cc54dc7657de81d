import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { listArtifacts, openArtifactStore } from '../../src/ota/artifacts/artifact-store.ts';
import { PayloadTooLargeError, ValidationError } from '../../src/infra/errors.ts';

describe('content-addressed artifact store', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flotilla-artifacts-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores a streamed blob under its sha256, idempotently, and reads ranges', async () => {
    const store = await openArtifactStore(root);
    const blob = randomBytes(3 * 1024 * 1024 + 17);
    const sha256 = createHash('sha256').update(blob).digest('hex');
    const stored = await store.put(Readable.from([blob.subarray(0, 1000), blob.subarray(1000)]));
    assert.deepEqual(stored, { sha256, size: blob.length });
    assert.deepEqual(await readFile(store.path(sha256)), blob);
    assert.deepEqual(await store.put(Readable.from([blob])), stored);
    assert.deepEqual(await listArtifacts(root), [sha256]);
    assert.equal(await store.size(sha256), blob.length);
    const chunks: Buffer[] = [];
    for await (const chunk of store.read(sha256, { start: 10, end: 19 })) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), blob.subarray(10, 20));
  });

  it('refuses oversize and mismatching uploads and leaves nothing behind', async () => {
    const store = await openArtifactStore(root);
    await assert.rejects(
      store.put(Readable.from([Buffer.alloc(2048)]), { maxBytes: 1024 }),
      PayloadTooLargeError,
    );
    await assert.rejects(
      store.put(Readable.from([Buffer.from('abc')]), { expectedSha256: '0'.repeat(64) }),
      /expected/,
    );
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
    assert.equal(await store.size('0'.repeat(64)), undefined);
    assert.throws(() => store.path('../etc/passwd'), ValidationError);
  });

  it('clears partial uploads left by a crash when it opens', async () => {
    await mkdir(join(root, 'tmp'), { recursive: true });
    await writeFile(join(root, 'tmp', 'dead.part'), 'half an image');
    const store = await openArtifactStore(root);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
    const stored = await store.put(Readable.from(['hello']));
    assert.equal(await text(store.read(stored.sha256)), 'hello');
  });
});
