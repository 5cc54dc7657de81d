// Unit tests of the TUF repository writer's own rules (no client involved).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/infra/errors.ts';
import {
  addTargets,
  createRepository,
  ed25519Signer,
  refreshTimestamp,
  rotateRoot,
} from '../../src/signing/tuf/index.ts';
import type { Signer, TargetInput } from '../../src/signing/tuf/index.ts';
import { readMetadata } from '../../src/signing/tuf/layout.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW_MS = Date.UTC(2030, 0, 1);
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function keyPair(): { publicKey: KeyObject; signer: Signer } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, signer: ed25519Signer(privateKey) };
}

const target = (name: string): TargetInput => ({
  name,
  bytes: Buffer.from(name),
  custom: { version: '1.0.0', hardware: { model: 'gw', revisions: ['r1'] } },
});

/** Root 1-of-1, targets 2-of-3, online snapshot and timestamp keys. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-tufrepo-'));
  dirs.push(dir);
  const root = keyPair();
  const targets = [keyPair(), keyPair(), keyPair()];
  const snapshot = keyPair();
  const timestamp = keyPair();
  const options = {
    rootKeys: [root.publicKey],
    targetsKeys: targets.map((k) => k.publicKey),
    snapshotKey: snapshot.publicKey,
    timestampKey: timestamp.publicKey,
    thresholds: { targets: 2 },
    rootSigners: [root.signer],
  };
  const deps = {
    clock: { now: () => NOW_MS },
    snapshotSigner: snapshot.signer,
    timestampSigner: timestamp.signer,
  };
  const repo = await createRepository(dir, options, deps);
  return { dir, repo, root, targets, options, deps };
}

describe('TUF repository writer', () => {
  it('writes 1.root.json with default expiries and refuses to overwrite it', async () => {
    const { dir, options, deps } = await setup();
    const root = await readMetadata(dir, 'root', 1);
    assert.equal(root.signed.expires, '2031-01-01T00:00:00Z');
    assert.equal(root.signed.consistentSnapshot, true);
    assert.equal(root.signed.roles['targets']?.threshold, 2);
    await assert.rejects(createRepository(dir, options, deps), ConflictError);
  });

  it('requires the targets threshold of trusted keys', async () => {
    const { dir, repo, targets } = await setup();
    const [a, b] = targets.map((k) => k.signer);
    assert.ok(a && b);
    await assert.rejects(addTargets(repo, [target('a.bin')], [a]), ForbiddenError);
    await assert.rejects(addTargets(repo, [target('a.bin')], [a, keyPair().signer]), ForbiddenError);
    assert.deepEqual(await readdir(join(dir, 'targets')), []);
    await addTargets(repo, [target('a.bin')], [a, b]);
  });

  it('accumulates targets, increases versions and sets role expiries', async () => {
    const { dir, repo, targets } = await setup();
    const signers = targets.slice(0, 2).map((k) => k.signer);
    await addTargets(repo, [target('a.bin')], signers);
    const v2 = await addTargets(repo, [target('b.bin')], signers);
    assert.deepEqual(v2, { targets: 2, snapshot: 2, timestamp: 2 });
    const t = await readMetadata(dir, 'targets', 2);
    assert.deepEqual(Object.keys(t.signed.targets).sort(), ['a.bin', 'b.bin']);
    assert.equal(t.signed.expires, new Date(NOW_MS + 90 * DAY_MS).toISOString().replace('.000', ''));
    const s = await readMetadata(dir, 'snapshot', 2);
    assert.equal(s.signed.meta['targets.json']?.version, 2);
    assert.equal(s.signed.expires, new Date(NOW_MS + 7 * DAY_MS).toISOString().replace('.000', ''));
    assert.equal(await refreshTimestamp(repo), 3);
    const ts = await readMetadata(dir, 'timestamp', 0);
    assert.equal(ts.signed.snapshotMeta.version, 2);
    assert.equal(ts.signed.expires, new Date(NOW_MS + DAY_MS).toISOString().replace('.000', ''));
  });

  it('validates target names and custom fields', async () => {
    const { repo, targets } = await setup();
    const signers = targets.slice(0, 2).map((k) => k.signer);
    await assert.rejects(addTargets(repo, [target('../evil')], signers), ValidationError);
    const bad = { ...target('c.bin'), custom: { version: '1' } } as unknown as TargetInput;
    await assert.rejects(addTargets(repo, [bad], signers), ValidationError);
    await assert.rejects(addTargets(repo, [target('d.bin'), target('d.bin')], signers), ValidationError);
  });

  it('rotates root only with both old and new root signatures', async () => {
    const { dir, repo, root } = await setup();
    const next = keyPair();
    const keys = { root: [next.publicKey] };
    await assert.rejects(
      rotateRoot(repo, { keys, oldRootSigners: [root.signer], newRootSigners: [] }),
      ForbiddenError,
    );
    await assert.rejects(
      rotateRoot(repo, { keys, oldRootSigners: [next.signer], newRootSigners: [next.signer] }),
      ForbiddenError,
    );
    assert.equal(
      await rotateRoot(repo, { keys, oldRootSigners: [root.signer], newRootSigners: [next.signer] }),
      2,
    );
    const root2 = await readMetadata(dir, 'root', 2);
    assert.deepEqual(Object.keys(root2.signatures).sort(), [root.signer.keyId, next.signer.keyId].sort());
    assert.equal(root2.signed.roles['targets']?.threshold, 2);
  });
});
