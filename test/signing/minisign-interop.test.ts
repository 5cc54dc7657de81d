/**
 * Interop with Debian minisign 0.11 both ways: `minisign -V` accepts what we sign (via the
 * public key file and via -P), and our verifier accepts what `minisign -S` signs, each rejecting
 * a flipped byte and a wrong key.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey } from '../../src/signing/ed25519.ts';
import {
  encodePublicKey,
  encodePublicKeyFile,
  MinisignError,
  parsePublicKey,
  signFile,
  writeFileSignature,
} from '../../src/signing/minisign.ts';
import { verifyFile } from '../../src/signing/minisign-verify.ts';
import { tempDir } from '../pki/openssl.ts';
import { minisign, minisignOk } from './minisign-tool.ts';

const NOW_MS = 1_700_000_000_000;

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}

function rejectsWith(reason: string): (err: unknown) => boolean {
  return (err) => err instanceof MinisignError && err.reason === reason;
}

describe('minisign interop', () => {
  let dir: string;
  let remove: () => Promise<void>;
  const key = generateSigningKey();
  const other = generateSigningKey();
  let fw: string;
  let pub: string;
  before(async () => {
    ({ dir, remove } = await tempDir('flotilla-minisign-'));
    fw = join(dir, 'fw.bin');
    pub = join(dir, 'flotilla.pub');
    await writeFile(fw, Buffer.from('firmware image 1.4.2\n'.repeat(1000)));
    await writeFile(pub, encodePublicKeyFile(key));
  });
  after(() => remove());

  it('minisign -V accepts our signature by key file and by -P, and prints the trusted comment', async () => {
    await writeFileSignature(fw, key, { nowMs: NOW_MS });
    const byFile = await minisignOk(['-V', '-p', pub, '-m', fw]);
    assert.match(byFile.stdout, /Signature and comment signature verified/);
    assert.match(byFile.stdout, /Trusted comment: timestamp:1700000000\tfile:fw\.bin/);
    await minisignOk(['-V', '-H', '-P', encodePublicKey(key), '-m', fw]);

    await writeFileSignature(fw, key, { nowMs: NOW_MS, trustedComment: 'fw 1.4.2 for acme-gw' });
    const custom = await minisignOk(['-Q', '-V', '-p', pub, '-m', fw]);
    assert.equal(custom.stdout.trim(), 'fw 1.4.2 for acme-gw');
  });

  it('minisign -V rejects a flipped byte, a wrong key and an edited trusted comment', async () => {
    const sig = await signFile(fw, key, { nowMs: NOW_MS });
    const copy = join(dir, 'tampered.bin');
    await writeFile(copy, await readFile(fw));
    await writeFile(`${copy}.minisig`, sig);
    await flipByte(copy, 5000);
    assert.equal((await minisign(['-V', '-p', pub, '-m', copy])).code, 1);

    await writeFile(`${fw}.minisig`, sig);
    assert.equal((await minisign(['-V', '-P', encodePublicKey(other), '-m', fw])).code, 1);
    const sameIdOtherKey = encodePublicKey({ keyId: key.keyId, publicKey: other.publicKey });
    assert.equal((await minisign(['-V', '-P', sameIdOtherKey, '-m', fw])).code, 1);

    await writeFile(`${fw}.minisig`, sig.replace('file:fw.bin', 'file:fw.bix'));
    assert.equal((await minisign(['-V', '-p', pub, '-m', fw])).code, 1);
  });

  it('verifies a minisign -S signature with our verifier, with typed reasons on failure', async () => {
    const mk = join(dir, 'mini.key');
    const mp = join(dir, 'mini.pub');
    await minisignOk(['-G', '-W', '-p', mp, '-s', mk]);
    const file = join(dir, 'app.tar');
    await writeFile(file, Buffer.alloc(300_000, 7));
    await minisignOk(['-S', '-s', mk, '-m', file, '-t', 'app 2.0']);
    const miniPub = parsePublicKey(await readFile(mp, 'utf8'));
    const sig = await readFile(`${file}.minisig`, 'utf8');

    const ok = await verifyFile(file, sig, miniPub);
    assert.deepEqual(ok, { algorithm: 'ED', keyId: ok.keyId, trustedComment: 'app 2.0' });
    // minisign prints the key id as a number (%X): no leading zeros, so compare the values.
    const printed = /minisign public key ([0-9A-F]+)/.exec(await readFile(mp, 'utf8'))?.[1];
    assert.equal(BigInt(`0x${printed ?? 'none'}`), BigInt(`0x${ok.keyId}`));

    await assert.rejects(verifyFile(file, sig, key), rejectsWith('key_id_mismatch'));
    const impostor = { keyId: miniPub.keyId, publicKey: key.publicKey };
    await assert.rejects(verifyFile(file, sig, impostor), rejectsWith('invalid_signature'));
    await assert.rejects(
      verifyFile(file, sig.replace('app 2.0', 'app 2.1'), miniPub),
      rejectsWith('invalid_global_signature'),
    );
    await assert.rejects(
      verifyFile(file, sig.split('\n').slice(0, 2).join('\n'), miniPub),
      rejectsWith('malformed_signature'),
    );
    await flipByte(file, 123_456);
    await assert.rejects(verifyFile(file, sig, miniPub), rejectsWith('invalid_signature'));
  });

  it('accepts legacy "Ed" signatures only when asked', async () => {
    const mk = join(dir, 'legacy.key');
    const mp = join(dir, 'legacy.pub');
    await minisignOk(['-G', '-W', '-p', mp, '-s', mk]);
    await minisignOk(['-S', '-l', '-s', mk, '-m', fw, '-x', join(dir, 'legacy.minisig')]);
    const sig = await readFile(join(dir, 'legacy.minisig'), 'utf8');
    const miniPub = parsePublicKey(await readFile(mp, 'utf8'));
    await assert.rejects(verifyFile(fw, sig, miniPub), rejectsWith('legacy_not_allowed'));
    assert.equal((await verifyFile(fw, sig, miniPub, { allowLegacy: true })).algorithm, 'Ed');
  });

  it('signs and verifies a 20 MiB file as a stream', async () => {
    const big = join(dir, 'rootfs.img');
    const handle = await open(big, 'w');
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 20; i++) await handle.write(chunk.fill(i));
    await handle.close();
    await writeFileSignature(big, key, { nowMs: NOW_MS });
    await minisignOk(['-V', '-p', pub, '-m', big]);
    const sig = await readFile(`${big}.minisig`, 'utf8');
    assert.equal((await verifyFile(big, sig, key)).trustedComment, 'timestamp:1700000000\tfile:rootfs.img');
    await flipByte(big, 20 * 1024 * 1024 - 1);
    await assert.rejects(verifyFile(big, sig, key), rejectsWith('invalid_signature'));
    assert.equal((await minisign(['-V', '-p', pub, '-m', big])).code, 1);
  });

  it('rejects malformed public keys', () => {
    assert.throws(
      () => parsePublicKey('untrusted comment: x\nnot-base64!\n'),
      rejectsWith('malformed_public_key'),
    );
    const wrongAlg = Buffer.concat([Buffer.from('XX'), key.keyId, key.publicKey]).toString('base64');
    assert.throws(() => parsePublicKey(wrongAlg), rejectsWith('unsupported_algorithm'));
    assert.deepEqual(parsePublicKey(encodePublicKey(key)).publicKey, key.publicKey);
  });
});
