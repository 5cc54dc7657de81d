/**
 * The daemon's identity on disk: every crash point of storing a pair leaves a usable identity or
 * none, never a certificate without its key, and loading never throws on leftovers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_FILES, loadStoredIdentity, saveIdentity } from '../../src/agent/identity-store.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import {
  createSelfSignedCa,
  issueDeviceCert,
  loadSigningCa,
  type KeyPairPem,
  type SigningCa,
} from '../../src/pki/x509.ts';

const { key, cert, nextKey, nextCert } = IDENTITY_FILES;

function recordingLogger(): AgentLogger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => undefined;
  return { warnings, debug: noop, info: noop, error: noop, warn: (_obj, msg) => warnings.push(msg) };
}

describe('identity store', () => {
  let root: string;
  let ca: SigningCa;
  let a: KeyPairPem;
  let b: KeyPairPem;
  let n = 0;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flotilla-identity-'));
    ca = await loadSigningCa(await createSelfSignedCa('test CA', 30, Date.now()));
    a = await issueDeviceCert(ca, { deviceId: 'dev-1', serial: 'SN-1', validityDays: 1 }, Date.now());
    b = await issueDeviceCert(ca, { deviceId: 'dev-1', serial: 'SN-1', validityDays: 2 }, Date.now());
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** A fresh state dir holding exactly `files`. */
  async function stateDir(files: Record<string, string>): Promise<string> {
    const dir = join(root, `state-${n++}`);
    await mkdir(dir, { mode: 0o700 });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }

  const load = (dir: string) => loadStoredIdentity(dir, recordingLogger());

  it('stores a provisioned identity and loads it back, key owner-only', async () => {
    const dir = join(root, 'fresh', 'state');
    await saveIdentity(dir, { ...a, caChainPem: 'CHAIN', mqttUrl: 'mqtts://fleet:8883' });
    const loaded = await load(dir);
    assert.deepEqual(loaded, { deviceId: 'dev-1', ...a, caChainPem: 'CHAIN', mqttUrl: 'mqtts://fleet:8883' });
    assert.equal((await stat(join(dir, key))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.deepEqual((await readdir(dir)).sort(), [
      'ca-chain.pem',
      'device.key',
      'device.pem',
      'server.json',
    ]);
  });

  it('has no identity without a directory, or with a key but no certificate', async () => {
    assert.equal(await load(join(root, 'missing')), undefined);
    const logger = recordingLogger();
    assert.equal(await loadStoredIdentity(await stateDir({ [key]: a.keyPem }), logger), undefined);
    assert.deepEqual(logger.warnings, ['ignoring an incomplete identity (no matching certificate and key)']);
  });

  it('ignores a half-written, foreign or unparsable certificate instead of crashing', async () => {
    assert.equal(await load(await stateDir({ [key]: a.keyPem, [cert]: a.certPem.slice(0, 200) })), undefined);
    assert.equal(await load(await stateDir({ [key]: a.keyPem, [cert]: b.certPem })), undefined);
    assert.equal(await load(await stateDir({ [key]: 'not a key', [cert]: a.certPem })), undefined);
  });

  it('removes temp files a crash left behind and never reads them', async () => {
    const dir = await stateDir({ [key]: a.keyPem, [cert]: a.certPem, 'device.pem.0a1b2c.tmp': b.certPem });
    assert.equal((await load(dir))?.certPem, a.certPem);
    assert.deepEqual((await readdir(dir)).sort(), [key, cert].sort());
  });

  describe('power loss while storing a renewed pair (A → B)', () => {
    const cases: Array<[string, () => Record<string, string>, () => KeyPairPem]> = [
      [
        'after writing the new key',
        () => ({ [key]: a.keyPem, [cert]: a.certPem, [nextKey]: b.keyPem }),
        () => a,
      ],
      [
        'after writing the new certificate',
        () => ({ [key]: a.keyPem, [cert]: a.certPem, [nextKey]: b.keyPem, [nextCert]: b.certPem }),
        () => b,
      ],
      [
        'after promoting the key',
        () => ({ [key]: b.keyPem, [cert]: a.certPem, [nextCert]: b.certPem }),
        () => b,
      ],
    ];
    for (const [when, files, expected] of cases) {
      it(`${when}: loads the complete pair and tidies up`, async () => {
        const dir = await stateDir(files());
        const loaded = await load(dir);
        assert.equal(loaded?.certPem, expected().certPem);
        assert.equal(loaded?.keyPem, expected().keyPem);
        assert.equal(await readFile(join(dir, cert), 'utf8'), expected().certPem);
        assert.equal(await readFile(join(dir, key), 'utf8'), expected().keyPem);
        assert.deepEqual((await readdir(dir)).sort(), [key, cert].sort());
      });
    }
  });

  describe('power loss while storing the first identity', () => {
    it('with only the staged key: no identity (the device provisions again)', async () => {
      assert.equal(await load(await stateDir({ [nextKey]: a.keyPem })), undefined);
    });
    it('with the staged pair, or the key promoted: the new identity', async () => {
      assert.equal(
        (await load(await stateDir({ [nextKey]: a.keyPem, [nextCert]: a.certPem })))?.certPem,
        a.certPem,
      );
      assert.equal(
        (await load(await stateDir({ [key]: a.keyPem, [nextCert]: a.certPem })))?.certPem,
        a.certPem,
      );
    });
  });

  it('a renewal replaces the pair and keeps the chain and server address', async () => {
    const dir = join(root, 'renewed');
    await saveIdentity(dir, { ...a, caChainPem: 'CHAIN', mqttUrl: 'mqtts://fleet:8883' });
    await saveIdentity(dir, b);
    assert.deepEqual(await load(dir), {
      deviceId: 'dev-1',
      ...b,
      caChainPem: 'CHAIN',
      mqttUrl: 'mqtts://fleet:8883',
    });
  });
});
