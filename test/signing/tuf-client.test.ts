// Interop tests: the repository writer against the real tuf-js client (TUF 5.3-5.7 workflow).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MetaFile, Metadata, Timestamp } from '@tufjs/models';
import { Updater } from 'tuf-js';
import { ForbiddenError } from '../../src/infra/errors.ts';
import {
  addTargets,
  createRepository,
  ed25519Signer,
  openRepository,
  parseTargetCustom,
  refreshTimestamp,
  rotateRoot,
} from '../../src/signing/tuf/index.ts';
import type { Signer, TargetInput, TufRepository } from '../../src/signing/tuf/index.ts';
import { readMetadata, writeMetadata } from '../../src/signing/tuf/layout.ts';
import { buildRoot, keysOf, thresholdsOf } from '../../src/signing/tuf/root-metadata.ts';
import { expiresAt, signMetadata } from '../../src/signing/tuf/sign.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

function keyPair(): { publicKey: ReturnType<typeof generateKeyPairSync>['publicKey']; signer: Signer } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, signer: ed25519Signer(privateKey) };
}

let base: string;
let server: Server;
let baseUrl: string;
/** The directory the static server currently serves; each test points it at its repository. */
let servedDir = '';

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'flotilla-tuf-'));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, area, name] = url.pathname.split('/');
    const file =
      area === 'targets'
        ? join(servedDir, 'targets', basename(name ?? ''))
        : join(servedDir, basename(area ?? ''));
    readFile(file).then(
      (bytes) => res.writeHead(200).end(bytes),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(base, { recursive: true, force: true });
});

const firmware: TargetInput = {
  name: 'sensor-1.2.0.bin',
  bytes: Buffer.from('firmware image 1.2.0'),
  custom: { version: '1.2.0', hardware: { model: 'sensor', revisions: ['A', 'B'] }, mandatory: true },
};

/** A fresh repository with one key per role, served by the static server. */
async function setup(nowMs = Date.now()) {
  const dir = await mkdtemp(join(base, 'repo-'));
  const keys = { root: keyPair(), targets: keyPair(), snapshot: keyPair(), timestamp: keyPair() };
  const clock = { now: () => nowMs };
  const deps = { clock, snapshotSigner: keys.snapshot.signer, timestampSigner: keys.timestamp.signer };
  const repo = await createRepository(
    dir,
    {
      rootKeys: [keys.root.publicKey],
      targetsKeys: [keys.targets.publicKey],
      snapshotKey: keys.snapshot.publicKey,
      timestampKey: keys.timestamp.publicKey,
      rootSigners: [keys.root.signer],
    },
    deps,
  );
  servedDir = dir;
  const clientDir = await mkdtemp(join(base, 'client-'));
  await mkdir(join(clientDir, 'metadata'));
  // Bootstrap (TUF 5.2): the device ships with a trusted root obtained out of band.
  await copyFile(join(dir, '1.root.json'), join(clientDir, 'metadata', 'root.json'));
  const client = (): Updater =>
    new Updater({
      metadataDir: join(clientDir, 'metadata'),
      metadataBaseUrl: baseUrl,
      targetDir: join(clientDir, 'downloads'),
      targetBaseUrl: `${baseUrl}/targets`,
      config: { fetchRetry: false },
    });
  return { dir, repo, keys, deps, client, clientDir };
}

/** Asserts the promise rejects with an error of the named class (tuf-js does not export them). */
async function rejectsWith(promise: Promise<unknown>, className: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as object).constructor.name, className, String(err));
    return true;
  });
}

/** Writes a timestamp for `snapshotVersion` signed by `signer`, bypassing the writer's checks. */
async function forgeTimestamp(repo: TufRepository, signer: Signer, snapshotVersion: number, version: number) {
  const snapshot = await readFile(join(repo.dir, `${snapshotVersion}.snapshot.json`));
  const current = await readMetadata(repo.dir, 'timestamp', 0);
  const meta = new MetaFile({ version: snapshotVersion, length: snapshot.length });
  const ts = new Metadata(
    new Timestamp({ ...current.signed, version, expires: expiresAt(Date.now(), DAY_MS), snapshotMeta: meta }),
  );
  await signMetadata(ts, [signer]);
  await writeMetadata(repo.dir, 'timestamp', ts);
}

describe('TUF repository with the tuf-js client', () => {
  it('publishes a target the client verifies, downloads and reads custom fields from', async () => {
    const { repo, keys, client, clientDir } = await setup();
    assert.deepEqual(await addTargets(repo, [firmware], [keys.targets.signer]), {
      targets: 1,
      snapshot: 1,
      timestamp: 1,
    });
    const updater = client();
    await updater.refresh();
    const info = await updater.getTargetInfo('sensor-1.2.0.bin');
    assert.ok(info);
    const custom = parseTargetCustom(info.custom);
    assert.deepEqual(custom, firmware.custom);
    const path = await updater.downloadTarget(info, join(clientDir, 'fw.bin'));
    assert.deepEqual(await readFile(path), firmware.bytes);
    const stored = await readdir(join(repo.dir, 'targets'));
    assert.deepEqual(stored, [`${info.hashes['sha256']}.sensor-1.2.0.bin`]);
  });

  it('refuses a tampered target file (TUF 5.7.3 hash check)', async () => {
    const { repo, keys, client, clientDir } = await setup();
    await addTargets(repo, [firmware], [keys.targets.signer]);
    const [stored] = await readdir(join(repo.dir, 'targets'));
    await writeFile(join(repo.dir, 'targets', stored ?? ''), 'firmware image 6.6.6');
    const updater = client();
    await updater.refresh();
    const info = await updater.getTargetInfo('sensor-1.2.0.bin');
    assert.ok(info);
    await rejectsWith(updater.downloadTarget(info, join(clientDir, 'fw.bin')), 'LengthOrHashMismatchError');
  });

  it('refuses metadata signed with a key the root does not trust (TUF 5.4.2)', async () => {
    const { repo, keys, deps, client } = await setup();
    await addTargets(repo, [firmware], [keys.targets.signer]);
    const rogue = keyPair().signer;
    // The writer itself will not sign with an unknown key...
    await assert.rejects(
      refreshTimestamp(openRepository(repo.dir, { ...deps, timestampSigner: rogue })),
      ForbiddenError,
    );
    // ...and the client rejects such a file when it is forged.
    await forgeTimestamp(repo, rogue, 1, 2);
    await rejectsWith(client().refresh(), 'UnsignedMetadataError');
  });

  it('refuses an expired timestamp (TUF 5.4.4)', async () => {
    const { repo, keys, client } = await setup(Date.now() - 2 * DAY_MS);
    await addTargets(repo, [firmware], [keys.targets.signer]);
    await rejectsWith(client().refresh(), 'ExpiredMetadataError');
  });

  it('accepts a refreshed timestamp with a higher version', async () => {
    const { dir, repo, keys, deps, client } = await setup(Date.now() - 2 * DAY_MS);
    await addTargets(repo, [firmware], [keys.targets.signer]);
    assert.equal(
      await refreshTimestamp(openRepository(dir, { ...deps, clock: { now: () => Date.now() } })),
      2,
    );
    await client().refresh();
  });

  it('refuses rollback of timestamp and snapshot versions (TUF 5.4.3)', async () => {
    const { repo, keys, client } = await setup();
    await addTargets(repo, [firmware], [keys.targets.signer]);
    await client().refresh();
    const oldTimestamp = await readFile(join(repo.dir, 'timestamp.json'));
    await addTargets(repo, [{ ...firmware, name: 'sensor-1.3.0.bin' }], [keys.targets.signer]);
    const updater = client();
    await updater.refresh();
    assert.ok(await updater.getTargetInfo('sensor-1.3.0.bin'));

    await writeFile(join(repo.dir, 'timestamp.json'), oldTimestamp);
    await rejectsWith(client().refresh(), 'BadVersionError');
    // A validly signed newer timestamp that points at the older snapshot 1.
    await forgeTimestamp(repo, keys.timestamp.signer, 1, 3);
    await rejectsWith(client().refresh(), 'BadVersionError');
  });

  it('refuses mix-and-match: targets not matching the snapshot (TUF 5.6.2)', async () => {
    const { dir, repo, keys, client } = await setup();
    await addTargets(repo, [firmware], [keys.targets.signer]);
    await addTargets(repo, [{ ...firmware, name: 'sensor-1.3.0.bin' }], [keys.targets.signer]);
    const genuine = await readFile(join(dir, '2.targets.json'));
    await copyFile(join(dir, '1.targets.json'), join(dir, '2.targets.json'));
    // tuf-js wraps the length/hash mismatch against the snapshot's MetaFile in a RuntimeError.
    await rejectsWith(client().refresh(), 'RuntimeError');
    // With the genuine file back the same client state refreshes: the swap was the cause.
    await writeFile(join(dir, '2.targets.json'), genuine);
    const updater = client();
    await updater.refresh();
    assert.ok(await updater.getTargetInfo('sensor-1.3.0.bin'));
  });

  it('follows a root rotation and then refuses old-key metadata (TUF 5.3.4-5.3.11)', async () => {
    const { dir, repo, keys, deps, client, clientDir } = await setup();
    await addTargets(repo, [firmware], [keys.targets.signer]);
    await client().refresh();
    const newRoot = keyPair();
    const newTimestamp = keyPair();
    const version = await rotateRoot(repo, {
      keys: { root: [newRoot.publicKey], timestamp: [newTimestamp.publicKey] },
      oldRootSigners: [keys.root.signer],
      newRootSigners: [newRoot.signer],
    });
    assert.equal(version, 2);
    const rotated = openRepository(dir, { ...deps, timestampSigner: newTimestamp.signer });
    await refreshTimestamp(rotated);
    const updater = client();
    await updater.refresh();
    assert.ok(await updater.getTargetInfo('sensor-1.2.0.bin'));
    const trusted = JSON.parse(await readFile(join(clientDir, 'metadata', 'root.json'), 'utf8')) as {
      signed: { version: number };
    };
    assert.equal(trusted.signed.version, 2);

    // A timestamp signed by the retired timestamp key.
    await forgeTimestamp(repo, keys.timestamp.signer, 1, 5);
    await rejectsWith(client().refresh(), 'UnsignedMetadataError');
    await refreshTimestamp(rotated);
    await client().refresh();

    // Root 3 signed only by the retired root key.
    const root2 = await readMetadata(dir, 'root', 2);
    const root3 = buildRoot({
      version: 3,
      expires: expiresAt(Date.now(), DAY_MS),
      keys: keysOf(root2.signed),
      thresholds: thresholdsOf(root2.signed),
    });
    await signMetadata(root3, [keys.root.signer]);
    await writeMetadata(dir, 'root', root3);
    await rejectsWith(client().refresh(), 'UnsignedMetadataError');
  });
});
