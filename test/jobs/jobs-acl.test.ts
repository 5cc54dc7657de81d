import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authorizeDevicePublish, authorizeDeviceSubscribe } from '../../src/gateway/device-acl.ts';
import { decodeDeviceMessage } from '../../src/gateway/payload.ts';
import { jobLogFiles } from '../../src/jobs/job-logs.ts';
import { PayloadTooLargeError, ValidationError } from '../../src/infra/errors.ts';

describe('job topics and log files', () => {
  it('lets a device use only its own job topics, in their direction', () => {
    assert.deepEqual(authorizeDevicePublish('a', 'fl/d/a/jobs/status'), {
      kind: 'accept',
      suffix: 'jobs/status',
    });
    assert.equal(authorizeDevicePublish('a', 'fl/d/b/jobs/status').kind, 'deny');
    assert.equal(authorizeDevicePublish('a', 'fl/d/a/jobs/notify').kind, 'deny');
    assert.equal(authorizeDeviceSubscribe('a', 'fl/d/a/jobs/notify'), true);
    assert.equal(authorizeDeviceSubscribe('a', 'fl/d/b/jobs/notify'), false);
    assert.equal(authorizeDeviceSubscribe('a', 'fl/d/a/jobs/status'), false);
  });

  it('validates jobs/status payloads against the contract, naming the field', () => {
    const ok = decodeDeviceMessage(
      'jobs/status',
      Buffer.from(JSON.stringify({ kind: 'progress', executionId: 'ex-1', attempt: 1, state: 'succeeded' })),
    );
    assert.equal(ok.ok, true);
    const bad = decodeDeviceMessage(
      'jobs/status',
      Buffer.from(JSON.stringify({ kind: 'progress', executionId: 'ex-1', attempt: 0, state: 'succeeded' })),
    );
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.message, /attempt/);
  });

  it('stores a gzip bundle atomically and refuses oversized or non-gzip ones without leftovers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flotilla-job-logs-'));
    try {
      const files = jobLogFiles(root, 64);
      const bundle = gzipSync(Buffer.from('hello'));
      const stored = await files.write('job-1', 'ex-1', Readable.from([bundle]));
      assert.deepEqual(stored, { file: join('job-1', 'ex-1.log.gz'), bytes: bundle.length });
      assert.deepEqual(await readFile(join(root, stored.file)), bundle);
      await assert.rejects(
        files.write('job-1', 'ex-2', Readable.from([bundle, Buffer.alloc(64)])),
        PayloadTooLargeError,
      );
      await assert.rejects(
        files.write('job-1', 'ex-3', Readable.from([Buffer.from('plain')])),
        ValidationError,
      );
      assert.deepEqual(await readdir(join(root, 'job-1')), ['ex-1.log.gz']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
