// A publication the server did not finish (crash after the release row, before its signature and
// TUF target) is completed at the next start, before devices are served.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simulatedImage } from '../../src/sim/sim-firmware.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

describe('release publication recovery', () => {
  let fx: ServerFixture;
  before(async () => {
    fx = await createServerFixture();
  });
  after(() => fx?.close());

  async function latestTargets(): Promise<Record<string, unknown>> {
    const dir = join(fx.dataDir, 'tuf', 'repo');
    const newest = (await readdir(dir))
      .map((name) => /^(\d+)\.targets\.json$/.exec(name)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => b - a)[0];
    const file = JSON.parse(await readFile(join(dir, `${newest}.targets.json`), 'utf8')) as {
      signed: { targets: Record<string, unknown> };
    };
    return file.signed.targets;
  }

  it('signs and publishes the target of a release stored before a crash', async () => {
    const image = simulatedImage('valve-1', '3.1.0');
    const sha256 = createHash('sha256').update(image).digest('hex');
    assert.equal((await fx.request('PUT', '/api/v1/firmware/artifacts', image)).status, 201);
    // What a crash right after the release row leaves behind: no signature, no target.
    await fx.server().stores.releases.createRelease(
      {
        version: '3.1.0',
        hardwareModel: 'valve-1',
        hardwareRevisions: [],
        sha256,
        size: image.length,
        security: false,
        minVersion: null,
        mandatory: false,
        notes: '',
        createdBy: 'test',
      },
      Date.now(),
    );
    assert.equal((await fx.request('GET', '/api/v1/firmware/releases/valve-1/3.1.0')).body['minisig'], false);
    assert.equal((await latestTargets())['valve-1_3.1.0.img'], undefined);

    await fx.stop();
    await fx.start();
    assert.equal((await fx.request('GET', '/api/v1/firmware/releases/valve-1/3.1.0')).body['minisig'], true);
    const target = (await latestTargets())['valve-1_3.1.0.img'] as { hashes: { sha256: string } } | undefined;
    assert.equal(target?.hashes.sha256, sha256);
  });
});
