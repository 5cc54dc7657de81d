/** Signing key files: owner-only, sealed under a passphrase unless asked otherwise, tamper-evident. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatKeyId, generateSigningKey, signBytes, verifyBytes } from '../../src/signing/ed25519.ts';
import {
  KeyDecryptionError,
  parseKeyFile,
  readSigningKeyFile,
  writeSigningKeyFile,
} from '../../src/signing/key-file.ts';
import { ValidationError } from '../../src/infra/errors.ts';
import { tempDir } from '../pki/openssl.ts';

describe('signing key files', () => {
  let dir: string;
  let remove: () => Promise<void>;
  before(async () => ({ dir, remove } = await tempDir('flotilla-keyfile-')));
  after(() => remove());

  it('signs and verifies raw Ed25519 with an 8-byte key id', () => {
    const key = generateSigningKey();
    assert.equal(key.keyId.length, 8);
    assert.equal(key.publicKey.length, 32);
    const sig = signBytes(key.privateKey, Buffer.from('hello'));
    assert.ok(verifyBytes(key.publicKey, Buffer.from('hello'), sig));
    assert.ok(!verifyBytes(key.publicKey, Buffer.from('hellO'), sig));
    assert.equal(formatKeyId(Buffer.from('0102030405060708', 'hex')), '0807060504030201');
  });

  it('round-trips an encrypted key written 0600 and refuses a wrong passphrase', async () => {
    const key = generateSigningKey();
    const path = join(dir, 'sealed.key');
    await writeSigningKeyFile(path, key, 'correct horse');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const text = await readFile(path, 'utf8');
    assert.equal(parseKeyFile(text).seed, undefined);
    const opened = await readSigningKeyFile(path, 'correct horse');
    assert.ok(opened.keyId.equals(key.keyId));
    assert.ok(opened.publicKey.equals(key.publicKey));
    const sig = signBytes(opened.privateKey, Buffer.from('m'));
    assert.ok(verifyBytes(key.publicKey, Buffer.from('m'), sig));

    await assert.rejects(readSigningKeyFile(path, 'wrong horse'), KeyDecryptionError);
    await assert.rejects(readSigningKeyFile(path, undefined), KeyDecryptionError);
  });

  it('detects an edited key id or public key in a sealed file', async () => {
    const key = generateSigningKey();
    const path = join(dir, 'edited.key');
    await writeSigningKeyFile(path, key, 'pw');
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...json, keyId: '0000000000000000' }));
    await assert.rejects(readSigningKeyFile(path, 'pw'), KeyDecryptionError);
    const other = generateSigningKey().publicKey.toString('base64');
    await writeFile(path, JSON.stringify({ ...json, publicKey: other }));
    await assert.rejects(readSigningKeyFile(path, 'pw'), KeyDecryptionError);
  });

  it('stores an unencrypted key only when no passphrase is given, and checks its public key', async () => {
    const key = generateSigningKey();
    const path = join(dir, 'clear.key');
    await writeSigningKeyFile(path, key, undefined);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.ok((await readSigningKeyFile(path, undefined)).publicKey.equals(key.publicKey));
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const other = generateSigningKey().publicKey.toString('base64');
    await writeFile(path, JSON.stringify({ ...json, publicKey: other }));
    await assert.rejects(readSigningKeyFile(path, undefined), ValidationError);
    await writeFile(path, '{"type":"something-else"}');
    await assert.rejects(readSigningKeyFile(path, undefined), ValidationError);
  });
});
