/**
 * `flotilla keys …` end to end in-process (main.ts wires the command separately), with
 * Debian minisign checking what the commands write.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerKeysCommand } from '../../src/cli/keys-command.ts';
import { ConflictError, ValidationError } from '../../src/infra/errors.ts';
import { KeyDecryptionError } from '../../src/signing/key-file.ts';
import { MinisignError } from '../../src/signing/minisign.ts';
import { tempDir } from '../pki/openssl.ts';
import { minisign, minisignOk } from './minisign-tool.ts';

/** Runs `flotilla <args>` in-process with `env`; resolves with what it printed. */
async function flotilla(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const program = new Command('flotilla')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void out.write(s) });
  registerKeysCommand(program, { out, env });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError && err.code === 'commander.helpDisplayed')) throw err;
  }
  return Buffer.concat(chunks).toString('utf8');
}

describe('flotilla keys', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let passFile: string;
  let fw: string;
  const noEnv = {};
  before(async () => {
    ({ dir, remove } = await tempDir('flotilla-keys-'));
    passFile = join(dir, 'pass.txt');
    fw = join(dir, 'fw.bin');
    await writeFile(passFile, 'operator secret\n');
    await writeFile(fw, Buffer.alloc(100_000, 0x5a));
  });
  after(() => remove());

  it('generates an encrypted key pair, signs, and minisign and keys verify accept it', async () => {
    const gen = JSON.parse(
      await flotilla(
        noEnv,
        'keys',
        'generate',
        '--out',
        dir,
        '--name',
        'release',
        '--passphrase-file',
        passFile,
        '--json',
      ),
    ) as { keyId: string; keyFile: string; pubFile: string; encrypted: boolean };
    assert.equal(gen.encrypted, true);
    assert.equal((await stat(gen.keyFile)).mode & 0o777, 0o600);
    assert.match(
      await readFile(gen.pubFile, 'utf8'),
      new RegExp(`^untrusted comment: minisign public key ${gen.keyId}\n`),
    );

    await flotilla(
      noEnv,
      'keys',
      'sign',
      fw,
      '--key',
      gen.keyFile,
      '--passphrase-file',
      passFile,
      '--trusted-comment',
      'fw 9',
    );
    const checked = await minisignOk(['-V', '-p', gen.pubFile, '-m', fw]);
    assert.match(checked.stdout, /Trusted comment: fw 9/);
    const verified = JSON.parse(
      await flotilla(noEnv, 'keys', 'verify', fw, '--pub', gen.pubFile, '--json'),
    ) as object;
    assert.deepEqual(verified, { valid: true, algorithm: 'ED', keyId: gen.keyId, trustedComment: 'fw 9' });

    const pubText = await flotilla(noEnv, 'keys', 'export-public', '--key', gen.keyFile);
    assert.equal(pubText, await readFile(gen.pubFile, 'utf8'));
    const b64 = (await flotilla(noEnv, 'keys', 'export-public', '--key', gen.keyFile, '--base64')).trim();
    await minisignOk(['-V', '-P', b64, '-m', fw]);

    await assert.rejects(flotilla(noEnv, 'keys', 'sign', fw, '--key', gen.keyFile), KeyDecryptionError);
    const wrong = { FLOTILLA_KEY_PASSPHRASE: 'not it' };
    await assert.rejects(flotilla(wrong, 'keys', 'sign', fw, '--key', gen.keyFile), KeyDecryptionError);
    const right = { FLOTILLA_KEY_PASSPHRASE: 'operator secret' };
    await flotilla(right, 'keys', 'sign', fw, '--key', gen.keyFile, '--out', join(dir, 'env.minisig'));
    await minisignOk(['-V', '-p', gen.pubFile, '-m', fw, '-x', join(dir, 'env.minisig')]);
  });

  it('verify fails with the reason for a tampered file and a wrong key', async () => {
    await flotilla(noEnv, 'keys', 'generate', '--out', dir, '--name', 'a', '--unencrypted');
    await flotilla(noEnv, 'keys', 'generate', '--out', dir, '--name', 'b', '--unencrypted');
    const file = join(dir, 'app.bin');
    await writeFile(file, 'application 1.0');
    await flotilla(noEnv, 'keys', 'sign', file, '--key', join(dir, 'a.key'));
    await flotilla(noEnv, 'keys', 'verify', file, '--pub', join(dir, 'a.pub'));
    const reason = (r: string) => (err: unknown) => err instanceof MinisignError && err.reason === r;
    await assert.rejects(
      flotilla(noEnv, 'keys', 'verify', file, '--pub', join(dir, 'b.pub')),
      reason('key_id_mismatch'),
    );
    await writeFile(file, 'application 1.1');
    await assert.rejects(
      flotilla(noEnv, 'keys', 'verify', file, '--pub', join(dir, 'a.pub')),
      reason('invalid_signature'),
    );
    assert.equal((await minisign(['-V', '-p', join(dir, 'a.pub'), '-m', file])).code, 1);
  });

  it('verifies a minisign -S signature', async () => {
    const mk = join(dir, 'm.key');
    const mp = join(dir, 'm.pub');
    await minisignOk(['-G', '-W', '-p', mp, '-s', mk]);
    await minisignOk(['-S', '-s', mk, '-m', fw, '-x', join(dir, 'm.minisig')]);
    const text = await flotilla(noEnv, 'keys', 'verify', fw, '--pub', mp, '--sig', join(dir, 'm.minisig'));
    assert.match(text, /signature verified .*\ntrusted comment: timestamp:\d+\tfile:fw\.bin/);
  });

  it('refuses to overwrite keys or to store one unencrypted without --unencrypted', async () => {
    await assert.rejects(
      flotilla(noEnv, 'keys', 'generate', '--out', dir, '--name', 'a', '--unencrypted'),
      ConflictError,
    );
    await assert.rejects(flotilla(noEnv, 'keys', 'generate', '--out', dir, '--name', 'c'), ValidationError);
    await assert.rejects(
      flotilla(noEnv, 'keys', 'generate', '--out', dir, '--name', '../x', '--unencrypted'),
      ValidationError,
    );
  });

  it('shows examples in --help', async () => {
    assert.match(await flotilla(noEnv, 'keys', '--help'), /flotilla keys sign firmware\.bin/);
    assert.match(await flotilla(noEnv, 'keys', 'verify', '--help'), /Example:\n {2}flotilla keys verify/);
  });
});
