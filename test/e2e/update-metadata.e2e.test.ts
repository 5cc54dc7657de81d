/**
 * Signed update metadata end to end: two releases published over the management API, a delta
 * built in the background for the version a device runs, and the real tuf-js client fetching
 * metadata, image and patch over the device HTTPS API with a device certificate. Debian
 * `bspatch` applies the patch and Debian `minisign` verifies the served signature.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { issueDeviceCert } from '../../src/pki/x509.ts';
import { generateSigningKey } from '../../src/signing/ed25519.ts';
import { readSigningKeyFile } from '../../src/signing/key-file.ts';
import { encodePublicKey, signDigest, blake2bFile } from '../../src/signing/minisign.ts';
import { parseTargetCustom } from '../../src/signing/tuf/target-custom.ts';
import { DeviceCertFetcher, deviceTufClient } from '../helpers/device-cert-fetcher.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('signed update metadata (TUF + minisign + deltas)', () => {
  let fx: ServerFixture;
  let dir: string;
  const operatorKey = generateSigningKey();
  const v1 = randomBytes(300 * 1024);
  // The next build: a few scattered edits, so the patch is far smaller than the image.
  const v2 = Buffer.from(v1);
  for (let i = 0; i < 40; i++) v2[(i * 7919) % v2.length] = i;

  const api = (method: string, path: string, body?: unknown) => fx.request(method, path, body);

  before(async () => {
    fx = await createServerFixture({ ota: { minisignPublicKeys: [encodePublicKey(operatorKey)] } });
    dir = await mkdtemp(join(tmpdir(), 'flotilla-tuf-e2e-'));
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes, builds the delta, and serves verifiable metadata and targets', async () => {
    await fx
      .server()
      .store.createDevice(
        { id: 'tracker-1', serial: 'SN-T-1', hardwareModel: 'tracker', firmwareVersion: '1.0.0' },
        Date.now(),
      );
    for (const image of [v1, v2]) {
      const uploaded = await api('PUT', '/api/v1/firmware/artifacts', image);
      assert.equal(uploaded.status, 201);
    }
    const release = { hardwareModel: 'tracker', hardwareRevisions: ['A'] };
    const first = await api('POST', '/api/v1/firmware/releases', {
      ...release,
      version: '1.0.0',
      sha256: sha(v1),
    });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body['minisig'], true);

    // The operator signs 1.1.0 offline; a signature by an unknown key is refused first.
    await writeFile(join(dir, 'v2.img'), v2);
    const digest = await blake2bFile(join(dir, 'v2.img'));
    const rogue = signDigest(generateSigningKey(), digest, 'file:v2.img');
    const refused = await api('POST', '/api/v1/firmware/releases', {
      ...release,
      version: '1.1.0',
      sha256: sha(v2),
      signature: rogue,
    });
    assert.equal(refused.status, 422);
    const operatorSig = signDigest(operatorKey, digest, 'file:tracker_1.1.0.img');
    const second = await api('POST', '/api/v1/firmware/releases', {
      ...release,
      version: '1.1.0',
      sha256: sha(v2),
      signature: operatorSig,
    });
    assert.equal(second.status, 201, JSON.stringify(second.body));

    type Delta = { baseVersion: string; status: string; patchSha256: string | null };
    let deltas: Delta[] = [];
    await waitFor(
      async () => {
        deltas = (await api('GET', '/api/v1/firmware/releases/tracker/1.1.0/deltas')).body[
          'items'
        ] as Delta[];
        return deltas.length > 0;
      },
      { what: 'the delta build' },
    );
    assert.deepEqual(
      deltas.map((d) => [d.baseVersion, d.status]),
      [['1.0.0', 'ready']],
    );
    const audit = await fx
      .server()
      .stores.provisioning.listAudit({ action: 'release.delta_ready', limit: 5 });
    assert.equal(audit.length, 1);

    // A device with its certificate, bootstrapped with the repository's root (TUF 5.2).
    const { device, fetcher, base, updater } = await deviceTufClient(fx, dir, {
      deviceId: 'tracker-1',
      serial: 'SN-T-1',
    });
    const client = updater();
    await client.refresh();
    const image = await client.getTargetInfo('tracker_1.1.0.img');
    const patch = await client.getTargetInfo('tracker_1.0.0_to_1.1.0.bsdiff');
    assert.ok(image && patch);
    assert.deepEqual(parseTargetCustom(image.custom), {
      kind: 'image',
      version: '1.1.0',
      hardware: { model: 'tracker', revisions: ['A'] },
      mandatory: false,
    });
    const delta = parseTargetCustom(patch.custom);
    assert.equal(delta.kind, 'delta');
    assert.deepEqual(delta.kind === 'delta' && delta.target, {
      name: 'tracker_1.1.0.img',
      sha256: sha(v2),
      length: v2.length,
    });
    assert.ok(await client.getTargetInfo('tracker_1.0.0.img'));

    const imagePath = await client.downloadTarget(image, join(dir, 'image.img'));
    assert.equal(sha(await readFile(imagePath)), sha(v2));
    const patchPath = await client.downloadTarget(patch, join(dir, 'patch.bsdiff'));
    await writeFile(join(dir, 'old.img'), v1);
    await run('bspatch', [join(dir, 'old.img'), join(dir, 'patched.img'), patchPath]);
    assert.equal(sha(await readFile(join(dir, 'patched.img'))), sha(v2));

    // The served .minisig files verify with Debian minisign: the operator's and the server's.
    const minisigOf = async (hash: string) => {
      const response = await new DeviceCertFetcher({
        ca: fx.server().pki.chainPem,
        cert: device.certPem,
        key: device.keyPem,
      }).downloadBytes(`${fx.server().deviceHttpUrl}/device/v1/artifacts/${hash}/minisig`, 4096);
      return response.toString('utf8');
    };
    await writeFile(join(dir, 'image.img.minisig'), await minisigOf(sha(v2)));
    await run('minisign', ['-Vm', join(dir, 'image.img'), '-P', encodePublicKey(operatorKey)]);
    const serverKey = await readSigningKeyFile(join(fx.dataDir, 'tuf', 'keys', 'minisign.key'), undefined);
    await writeFile(join(dir, 'old.img.minisig'), await minisigOf(sha(v1)));
    await run('minisign', ['-Vm', join(dir, 'old.img'), '-P', encodePublicKey(serverKey)]);

    // A target that is not in the signed metadata is not served, whatever its hash.
    await assert.rejects(
      fetcher.downloadBytes(`${base}/targets/${sha(v2)}.other.img`, 1 << 20),
      (err: unknown) => err instanceof DownloadHTTPError && err.statusCode === 404,
    );
    // A tampered file in the artifact store is refused by the client (TUF 5.7.3).
    const stored = join(fx.dataDir, 'artifacts', 'sha256', sha(v2).slice(0, 2), sha(v2));
    const tampered = Buffer.from(v2);
    tampered[0] = (tampered[0] ?? 0) ^ 0xff;
    await writeFile(stored, tampered);
    await assert.rejects(client.downloadTarget(image, join(dir, 'tampered.img')), (err: unknown) => {
      assert.equal((err as object).constructor.name, 'LengthOrHashMismatchError');
      return true;
    });
  });

  it('serves metadata with the right caching and refuses requests without a certificate', async () => {
    const url = `${fx.server().deviceHttpUrl}/device/v1/tuf`;
    const get = (path: string, tls: { cert?: string; key?: string } = {}) =>
      new Promise<{ status: number; cache: string | undefined }>((resolve, reject) => {
        request(`${url}/${path}`, { ca: fx.server().pki.chainPem, ...tls }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, cache: res.headers['cache-control'] });
        })
          .on('error', reject)
          .end();
      });
    assert.equal((await get('timestamp.json')).status, 401);
    const device = await issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId: 'tracker-2', serial: 'SN-T-2', validityDays: 1 },
      Date.now(),
    );
    const tls = { cert: device.certPem, key: device.keyPem };
    assert.deepEqual(await get('timestamp.json', tls), { status: 200, cache: 'no-cache' });
    assert.deepEqual(await get('root.json', tls), { status: 200, cache: 'no-cache' });
    assert.deepEqual(await get('1.targets.json', tls), {
      status: 200,
      cache: 'public, max-age=31536000, immutable',
    });
    assert.equal((await get('..%2Fkeys%2Froot.pem', tls)).status, 404);
    assert.equal((await get('99.snapshot.json', tls)).status, 404);
  });
});
