// Every bad input is refused before the inactive slot is written and reported as `failed` with
// the contract's reason. Real repository, tuf-js, bspatch and minisign signatures.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { UpdateFailureReason } from '../../src/contracts/update-messages.ts';
import { generateSigningKey } from '../../src/signing/ed25519.ts';
import { encodePublicKeyFile, signFile } from '../../src/signing/minisign.ts';
import { createClient, HW_CUSTOM, readEnv, sha256, type ClientOverrides } from './device-fixture.ts';
import { deltaTarget, IMAGE, offer, servers, world, type World } from './scenario.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'flotilla-update-refuse-'));
});
after(async () => {
  for (const server of servers) await server.close();
  await rm(base, { recursive: true, force: true });
});

const DAY_MS = 24 * 60 * 60 * 1000;

/** Offers, expects `failed` with `reason`, and checks nothing reached the boot slot or env. */
async function expectRefused(
  w: World,
  reason: UpdateFailureReason,
  o = offer(),
  overrides: ClientOverrides = {},
) {
  const slotB = await readFile(w.device.slots.b);
  const { client, reports, rebooted } = createClient(w.device, w.server.url, overrides);
  await client.offer(o);
  const last = reports.at(-1);
  assert.equal(last?.state, 'failed', JSON.stringify(reports));
  assert.equal(last?.reason, reason, last?.detail);
  assert.equal(reports.filter((r) => r.state === 'installing').length, 0);
  assert.deepEqual(await readFile(w.device.slots.b), slotB, 'inactive slot untouched');
  assert.deepEqual(await readEnv(w.device), { primary: 'a', booted: 'a' });
  assert.equal(rebooted(), false);
  assert.equal(client.current(), undefined);
}

function serverName(w: World, name: string, bytes: Buffer): string {
  return `${sha256(bytes)}.${name}`;
}

describe('update client refusals', () => {
  it('tampered image: hash_mismatch', async () => {
    const w = await world(base);
    const tampered = Buffer.from(w.newImage);
    tampered[100] = (tampered[100] ?? 0) ^ 0xff;
    w.server.replaced.set(serverName(w, IMAGE, w.newImage), tampered);
    await expectRefused(w, 'hash_mismatch');
  });

  it('more bytes than signed: hash_mismatch without reading past the signed length', async () => {
    const w = await world(base);
    w.server.replaced.set(serverName(w, IMAGE, w.newImage), Buffer.concat([w.newImage, Buffer.alloc(100)]));
    await expectRefused(w, 'hash_mismatch');
  });

  it('truncated download: truncated_download', async () => {
    const w = await world(base);
    w.server.replaced.set(serverName(w, IMAGE, w.newImage), w.newImage.subarray(0, 20_000));
    await expectRefused(w, 'truncated_download');
  });

  it('wrong minisign signature: signature_invalid; a right one installs', async () => {
    const w = await world(base);
    const trusted = generateSigningKey();
    const other = generateSigningKey();
    const file = join(base, `img-${Date.now()}`);
    await writeFile(file, w.newImage);
    w.server.signatures.set(sha256(w.newImage), await signFile(file, other, { nowMs: Date.now() }));
    const options = { options: { minisignPublicKey: encodePublicKeyFile(trusted) } };
    await expectRefused(w, 'signature_invalid', offer(), options);
    w.server.signatures.set(sha256(w.newImage), await signFile(file, trusted, { nowMs: Date.now() }));
    const { client, reports, rebooted } = createClient(w.device, w.server.url, options);
    await client.offer(offer({ deploymentId: 'dep-2' }));
    assert.equal(rebooted(), true, JSON.stringify(reports));
  });

  it('expired metadata: metadata_expired', async () => {
    const w = await world(base, { nowMs: Date.now() - 2 * DAY_MS });
    await expectRefused(w, 'metadata_expired');
  });

  it('replayed (older) timestamp: metadata_rollback', async () => {
    const w = await world(base);
    const oldTimestamp = await readFile(join(w.repo.dir, 'timestamp.json'));
    await w.repo.refreshTimestamp();
    await expectRefused(w, 'unknown_target', offer({ target: 'nothing.img' })); // trusts timestamp 2
    await writeFile(join(w.repo.dir, 'timestamp.json'), oldTimestamp);
    await expectRefused(w, 'metadata_rollback', offer({ deploymentId: 'dep-2' }));
  });

  it('bad metadata signature: metadata_invalid', async () => {
    const w = await world(base);
    const path = join(w.repo.dir, 'timestamp.json');
    const ts = JSON.parse(await readFile(path, 'utf8')) as { signatures: { sig: string }[] };
    const sig = ts.signatures[0]!;
    sig.sig = `${sig.sig.slice(0, -2)}${sig.sig.endsWith('00') ? '11' : '00'}`;
    await writeFile(path, JSON.stringify(ts));
    await expectRefused(w, 'metadata_invalid');
  });

  it('unknown target: unknown_target', async () => {
    await expectRefused(await world(base), 'unknown_target', offer({ target: 'tracker-9.9.9.img' }));
  });

  it('lower or equal version: downgrade_refused', async () => {
    const w = await world(base, {
      extra: () => [
        {
          name: 'tracker-0.9.0.img',
          bytes: Buffer.from('old'),
          custom: { version: '0.9.0', hardware: HW_CUSTOM },
        },
        {
          name: 'tracker-1.0.0.img',
          bytes: Buffer.from('same'),
          custom: { version: '1.0.0', hardware: HW_CUSTOM },
        },
      ],
    });
    await expectRefused(w, 'downgrade_refused', offer({ target: 'tracker-0.9.0.img' }));
    await expectRefused(
      w,
      'downgrade_refused',
      offer({ deploymentId: 'dep-2', target: 'tracker-1.0.0.img' }),
    );
  });

  it('other hardware model or revision: wrong_hardware', async () => {
    const w = await world(base, {
      extra: () => [
        {
          name: 'pump-2.0.0.img',
          bytes: Buffer.from('p'),
          custom: { version: '2.0.0', hardware: { model: 'pump', revisions: ['r2'] } },
        },
        {
          name: 'tracker-r9.img',
          bytes: Buffer.from('t'),
          custom: { version: '2.0.0', hardware: { model: 'tracker', revisions: ['r9'] } },
        },
      ],
    });
    await expectRefused(w, 'wrong_hardware', offer({ target: 'pump-2.0.0.img' }));
    await expectRefused(w, 'wrong_hardware', offer({ deploymentId: 'dep-2', target: 'tracker-r9.img' }));
  });

  it('a delta that claims our base but was made from another: wrong_base', async () => {
    const w = await world(base, {
      extra: async ({ oldImage, newImage }) => {
        const otherBase = Buffer.from(oldImage);
        otherBase.fill(7, 0, 4096);
        return [await deltaTarget(base, oldImage, otherBase, newImage)];
      },
    });
    await expectRefused(w, 'wrong_base');
  });

  it('a damaged patch: patch_failed', async () => {
    const w = await world(base);
    await w.repo.publish([
      {
        name: 'tracker-1.1.0.from-1.0.0.delta',
        bytes: Buffer.from('BSDIFF40 but not really a patch, just some text'),
        custom: {
          kind: 'delta',
          version: '1.1.0',
          hardware: HW_CUSTOM,
          base: { version: '1.0.0', sha256: sha256(w.oldImage) },
          target: { name: IMAGE, sha256: sha256(w.newImage), length: w.newImage.length },
        },
      },
    ]);
    await expectRefused(w, 'patch_failed');
  });

  it('a root.json lost to a power cut is restored from the durable backup', async () => {
    const w = await world(base);
    await expectRefused(w, 'unknown_target', offer({ target: 'nothing.img' })); // backs up the root
    await writeFile(join(w.device.tufDir, 'root.json'), '{"sig'); // torn write by tuf-js
    const { client, rebooted } = createClient(w.device, w.server.url);
    await client.offer(offer({ deploymentId: 'dep-2' }));
    assert.equal(rebooted(), true);
  });

  it('connection dropped while fetching snapshot metadata: download_failed, never metadata_invalid', async () => {
    const w = await world(base);
    w.server.hangUp = (path) => path.endsWith('snapshot.json');
    await expectRefused(w, 'download_failed');
  });

  it('connection dropped once while fetching targets metadata: the refresh is retried and installs', async () => {
    const w = await world(base);
    let dropped = 0;
    w.server.hangUp = (path) =>
      path.endsWith('targets.json') && !path.includes('/targets/') && dropped++ === 0;
    const { client, reports, rebooted } = createClient(w.device, w.server.url);
    await client.offer(offer());
    assert.equal(dropped, 2, 'dropped once, then served');
    assert.equal(rebooted(), true, JSON.stringify(reports.at(-1)));
  });

  it('server unreachable: download_failed', async () => {
    const w = await world(base);
    await expectRefused(w, 'download_failed', offer(), { options: { deviceHttpUrl: 'http://127.0.0.1:1' } });
  });
});
