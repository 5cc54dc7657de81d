/** Publishing firmware: streamed upload into the content-addressed store, releases with semver rules. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

function flotilla(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('firmware publishing', () => {
  let fx: ServerFixture;
  let dir: string;
  const image = randomBytes(5 * 1024 * 1024 + 3);
  const sha256 = createHash('sha256').update(image).digest('hex');

  async function api(
    method: string,
    path: string,
    body?: unknown,
    type = 'application/json',
  ): Promise<{
    status: number;
    body: { error?: { code: string; message: string } } & Record<string, unknown>;
  }> {
    const response = await fetch(`http://127.0.0.1:${fx.httpPort}${path}`, {
      method,
      headers: { 'content-type': type },
      body: type === 'application/json' ? JSON.stringify(body) : (body as Buffer),
    });
    return {
      status: response.status,
      body: (await response.json()) as { error?: { code: string; message: string } },
    };
  }

  before(async () => {
    fx = await createServerFixture({ ota: { maxArtifactBytes: 8 * 1024 * 1024 } });
    dir = await mkdtemp(join(tmpdir(), 'flotilla-fw-'));
    await writeFile(join(dir, 'tracker-2.4.1.img'), image);
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes an image with the CLI: stored by sha256, listed newest first', async () => {
    const server = `http://127.0.0.1:${fx.httpPort}`;
    const published = await flotilla([
      'firmware',
      'publish',
      join(dir, 'tracker-2.4.1.img'),
      '--version',
      '2.4.1',
      '--model',
      'tracker-2',
      '--revision',
      'B',
      '--security',
      '--min-version',
      '2.3.0',
      '--server',
      server,
      '--json',
    ]);
    assert.equal(published.code, 0, published.stderr);
    const release = JSON.parse(published.stdout) as {
      id: string;
      sha256: string;
      size: number;
      minVersion: string;
    };
    assert.deepEqual(
      [release.id, release.sha256, release.size, release.minVersion],
      ['tracker-2@2.4.1', sha256, image.length, '2.3.0'],
    );
    assert.deepEqual(
      await readFile(join(fx.dataDir, 'artifacts', 'sha256', sha256.slice(0, 2), sha256)),
      image,
    );

    const older = await flotilla([
      'firmware',
      'publish',
      join(dir, 'tracker-2.4.1.img'),
      '--version',
      '2.10.0-rc.1',
      '--model',
      'tracker-2',
      '--server',
      server,
    ]);
    assert.equal(older.code, 0, older.stderr);
    const list = await flotilla(['firmware', 'list', '--model', 'tracker-2', '--server', server, '--json']);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { items: Array<{ version: string }> }).items.map((r) => r.version),
      ['2.10.0-rc.1', '2.4.1'],
    );
  });

  it('refuses duplicates, bad versions, unknown artifacts, hash mismatches and oversize images', async () => {
    const again = await api('POST', '/api/v1/firmware/releases', {
      version: '2.4.1',
      hardwareModel: 'tracker-2',
      sha256,
    });
    assert.equal(again.status, 409);
    const badVersion = await api('POST', '/api/v1/firmware/releases', {
      version: 'two',
      hardwareModel: 'tracker-2',
      sha256,
    });
    assert.equal(badVersion.status, 400);
    assert.match(badVersion.body.error?.message ?? '', /version/);
    const unknown = await api('POST', '/api/v1/firmware/releases', {
      version: '3.0.0',
      hardwareModel: 'tracker-2',
      sha256: 'a'.repeat(64),
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error?.message ?? '', /upload the image first/);
    const mismatch = await api(
      'PUT',
      `/api/v1/firmware/artifacts?sha256=${'b'.repeat(64)}`,
      Buffer.from('not it'),
      'application/octet-stream',
    );
    assert.equal(mismatch.status, 400);
    const oversize = await api(
      'PUT',
      '/api/v1/firmware/artifacts',
      Buffer.alloc(9 * 1024 * 1024),
      'application/octet-stream',
    );
    assert.equal(oversize.status, 413);
    assert.match(oversize.body.error?.message ?? '', /limit/);
    const notBinary = await api('PUT', '/api/v1/firmware/artifacts', { image: 'x' });
    assert.equal(notBinary.status, 400);
    const audit = await fx.api<{ items: Array<{ target: string }> }>(
      '/api/v1/audit?action=release.published',
    );
    assert.deepEqual(audit.body.items.map((a) => a.target).sort(), [
      'tracker-2@2.10.0-rc.1',
      'tracker-2@2.4.1',
    ]);
  });
});
