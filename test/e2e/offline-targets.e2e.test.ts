/**
 * Two-step publishing with the TUF targets key offline: a release published while the server
 * lacks `tuf/keys/targets.pem` is staged, not in the metadata; the operator signs the staged
 * targets metadata with the key (`flotilla firmware sign-metadata`), and the real tuf-js client
 * then finds the target. A signature by another key is refused and changes nothing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiRequestError } from '../../src/cli/api-client.ts';
import { signPendingMetadata } from '../../src/cli/sign-metadata-command.ts';
import { deviceTufClient } from '../helpers/device-cert-fetcher.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('publishing with the TUF targets key offline', () => {
  let fx: ServerFixture;
  let dir: string;
  const image = randomBytes(64 * 1024);

  const api = (method: string, path: string, body?: unknown) => fx.request(method, path, body);
  const targetsFiles = async () =>
    (await readdir(join(fx.dataDir, 'tuf', 'repo'))).filter((f) => f.endsWith('.targets.json')).sort();

  before(async () => {
    fx = await createServerFixture();
    dir = await mkdtemp(join(tmpdir(), 'flotilla-offline-targets-'));
    await fx.stop();
    await rename(join(fx.dataDir, 'tuf', 'keys', 'targets.pem'), join(dir, 'targets.pem'));
    await fx.start();
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stages a release, refuses a wrong key, and publishes the offline signature', async () => {
    assert.equal((await api('PUT', '/api/v1/firmware/artifacts', image)).status, 201);
    assert.equal((await api('GET', '/api/v1/firmware/metadata/pending')).status, 404);
    const published = await api('POST', '/api/v1/firmware/releases', {
      hardwareModel: 'tracker',
      hardwareRevisions: ['A'],
      version: '1.0.0',
      sha256: sha(image),
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.deepEqual(await targetsFiles(), ['1.targets.json']);
    const pending = await api('GET', '/api/v1/firmware/metadata/pending');
    assert.equal(pending.status, 200);
    assert.equal(pending.body['version'], 2);
    assert.deepEqual(pending.body['targets'], ['tracker_1.0.0.img']);

    // The device sees no target yet.
    const { updater } = await deviceTufClient(fx, dir, {
      deviceId: 'tracker-1',
      serial: 'SN-O-1',
    });
    const before = updater();
    await before.refresh();
    assert.equal(await before.getTargetInfo('tracker_1.0.0.img'), undefined);

    // A key that is not the root's targets key is refused; nothing changes.
    const rogue = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
    await writeFile(join(dir, 'rogue.pem'), rogue);
    const server = `http://127.0.0.1:${fx.httpPort}`;
    await assert.rejects(
      signPendingMetadata({ server, keyFile: join(dir, 'rogue.pem') }),
      (err: unknown) => err instanceof ApiRequestError && err.status === 403,
    );
    // Metadata other than the staged one is refused too.
    const altered = {
      ...(pending.body['signed'] as Record<string, unknown>),
      expires: '2099-01-01T00:00:00Z',
    };
    const mismatch = await api('POST', '/api/v1/firmware/metadata/pending/signatures', {
      version: 2,
      signed: altered,
      signatures: [{ keyid: 'a'.repeat(64), sig: 'ab' }],
    });
    assert.equal(mismatch.status, 409);
    assert.deepEqual(await targetsFiles(), ['1.targets.json']);
    assert.equal((await api('GET', '/api/v1/firmware/metadata/pending')).status, 200);

    const shown: string[] = [];
    const result = await signPendingMetadata({ server, keyFile: join(dir, 'targets.pem') }, (p) =>
      shown.push(...p.targets),
    );
    assert.deepEqual(shown, ['tracker_1.0.0.img']);
    assert.equal(result.published.targets, 2);
    assert.deepEqual(await targetsFiles(), ['1.targets.json', '2.targets.json']);
    assert.equal((await api('GET', '/api/v1/firmware/metadata/pending')).status, 404);
    const audit = await fx
      .server()
      .stores.provisioning.listAudit({ action: 'tuf.targets_signed_offline', limit: 5 });
    assert.equal(audit.length, 1);

    const after = updater();
    await after.refresh();
    const target = await after.getTargetInfo('tracker_1.0.0.img');
    assert.ok(target);
    assert.equal(target.hashes['sha256'], sha(image));
  });
});
