/**
 * `flotilla keys …`: Ed25519 image-signing keys on the operator machine (no server needed, so
 * the private key can stay offline). Public keys and signatures are minisign 0.11 files, so
 * `minisign -V` checks our signatures and devices can check minisign's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConflictError, ValidationError } from '../infra/errors.ts';
import { fileExists, writeCertFile } from '../pki/pem-files.ts';
import { formatKeyId, generateSigningKey } from '../signing/ed25519.ts';
import { parseKeyFile, readKeyText, readSigningKeyFile, writeSigningKeyFile } from '../signing/key-file.ts';
import {
  encodePublicKey,
  encodePublicKeyFile,
  MinisignError,
  parsePublicKey,
  writeFileSignature,
} from '../signing/minisign.ts';
import { verifyFile } from '../signing/minisign-verify.ts';

/** Environment variable holding the key passphrase when no --passphrase-file is given. */
export const PASSPHRASE_ENV = 'FLOTILLA_KEY_PASSPHRASE';

export interface KeysCommandIo {
  /** Receives what the commands print (stdout by default). */
  readonly out?: NodeJS.WritableStream;
  /** Where FLOTILLA_KEY_PASSPHRASE is read (process.env by default). */
  readonly env?: NodeJS.ProcessEnv;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new ValidationError(`cannot read ${what} ${file}`);
  }
}

/** The passphrase from --passphrase-file (one trailing newline dropped) or the environment. */
async function passphrase(file: string | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const value =
    file === undefined
      ? env[PASSPHRASE_ENV]
      : (await readText(file, 'passphrase file')).replace(/\r?\n$/, '');
  if (value === '') throw new ValidationError('the passphrase is empty');
  return value;
}

/** Registers `flotilla keys …`. */
export function registerKeysCommand(program: Command, io: KeysCommandIo = {}): void {
  const out = io.out ?? process.stdout;
  const env = io.env ?? process.env;
  const say = (text: string): void => void out.write(`${text}\n`);
  const keys = program
    .command('keys')
    .description('Manage image-signing keys (Ed25519, minisign-compatible) on the operator machine')
    .addHelpText(
      'after',
      `
Examples:
  FLOTILLA_KEY_PASSPHRASE=… flotilla keys generate --out /media/keys --name release
  flotilla keys sign firmware.bin --key /media/keys/release.key --passphrase-file pass.txt
  flotilla keys verify firmware.bin --pub release.pub     # or: minisign -V -p release.pub -m firmware.bin
  flotilla keys export-public --key /media/keys/release.key --base64`,
    );

  keys
    .command('generate')
    .description('Create a key pair: NAME.key (private, 0600) and NAME.pub (minisign public key)')
    .requiredOption('--out <dir>', 'directory to write the key pair to (must exist)')
    .option('--name <name>', 'file name stem', 'flotilla')
    .option('--unencrypted', 'store the private key without a passphrase', false)
    .option('--passphrase-file <file>', `passphrase file (default: $${PASSPHRASE_ENV})`)
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla keys generate --out /media/keys --name release --passphrase-file pass.txt',
    )
    .action(
      async (o: {
        out: string;
        name: string;
        unencrypted: boolean;
        passphraseFile?: string;
        json: boolean;
      }) => {
        if (!/^[A-Za-z0-9._-]+$/.test(o.name) || o.name.startsWith('.'))
          throw new ValidationError('invalid --name');
        if (o.unencrypted && o.passphraseFile !== undefined)
          throw new ValidationError('--unencrypted and --passphrase-file exclude each other');
        const secret = o.unencrypted ? undefined : await passphrase(o.passphraseFile, env);
        if (!o.unencrypted && secret === undefined)
          throw new ValidationError(`set ${PASSPHRASE_ENV} or --passphrase-file, or pass --unencrypted`);
        const keyFile = join(o.out, `${o.name}.key`);
        const pubFile = join(o.out, `${o.name}.pub`);
        for (const f of [keyFile, pubFile])
          if (await fileExists(f)) throw new ConflictError(`${f} already exists`);
        const key = generateSigningKey();
        await writeSigningKeyFile(keyFile, key, secret); // the key first: nothing may name a key that is not on disk
        await writeCertFile(pubFile, encodePublicKeyFile(key));
        const result = {
          keyId: formatKeyId(key.keyId),
          keyFile,
          pubFile,
          encrypted: secret !== undefined,
          publicKey: encodePublicKey(key),
        };
        if (o.json) say(JSON.stringify(result, null, 2));
        else
          say(`key ${result.keyId} written\nprivate key (keep offline): ${keyFile}\npublic key: ${pubFile}`);
      },
    );

  keys
    .command('sign <file>')
    .description('Sign a file; writes FILE.minisig (minisign prehashed "ED" format)')
    .requiredOption('--key <keyfile>', 'private key file from keys generate')
    .option('--trusted-comment <text>', 'signed one-line comment (default: timestamp:<unix>\\tfile:<name>)')
    .option('--passphrase-file <file>', `passphrase file (default: $${PASSPHRASE_ENV})`)
    .option('--out <sigfile>', 'signature file (default: FILE.minisig)')
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla keys sign firmware.bin --key release.key --trusted-comment "fw 1.4.2"',
    )
    .action(
      async (
        file: string,
        o: { key: string; trustedComment?: string; passphraseFile?: string; out?: string; json: boolean },
      ) => {
        if (!(await fileExists(file))) throw new ValidationError(`cannot read ${file}`);
        const key = await readSigningKeyFile(o.key, await passphrase(o.passphraseFile, env));
        const opts = { trustedComment: o.trustedComment, nowMs: Date.now(), sigPath: o.out };
        const sigFile = await writeFileSignature(file, key, opts);
        if (o.json) say(JSON.stringify({ file, sigFile, keyId: formatKeyId(key.keyId) }, null, 2));
        else say(`signature written: ${sigFile}`);
      },
    );

  keys
    .command('verify <file>')
    .description('Verify FILE against FILE.minisig; exit 0 when valid, 1 with the reason when not')
    .requiredOption('--pub <pubfile>', 'minisign public key file')
    .option('--sig <sigfile>', 'signature file (default: FILE.minisig)')
    .option('--allow-legacy', 'accept legacy (non-prehashed) "Ed" signatures', false)
    .option('--json', 'print JSON for scripts', false)
    .addHelpText('after', '\nExample:\n  flotilla keys verify firmware.bin --pub release.pub --json')
    .action(async (file: string, o: { pub: string; sig?: string; allowLegacy: boolean; json: boolean }) => {
      const sigText = await readText(o.sig ?? `${file}.minisig`, 'signature file');
      const key = parsePublicKey(await readText(o.pub, 'public key'));
      if (!(await fileExists(file))) throw new ValidationError(`cannot read ${file}`);
      try {
        const ok = await verifyFile(file, sigText, key, { allowLegacy: o.allowLegacy });
        if (o.json) say(JSON.stringify({ valid: true, ...ok }, null, 2));
        else say(`signature verified (key ${ok.keyId})\ntrusted comment: ${ok.trustedComment}`);
      } catch (err) {
        if (o.json && err instanceof MinisignError)
          say(JSON.stringify({ valid: false, reason: err.reason }, null, 2));
        throw err;
      }
    });

  keys
    .command('export-public')
    .description('Print the minisign public key file for a private key (no passphrase needed)')
    .requiredOption('--key <keyfile>', 'private key file')
    .option('--base64', 'print only the base64 key line (for minisign -P)', false)
    .option('--json', 'print JSON for scripts', false)
    .addHelpText('after', '\nExample:\n  flotilla keys export-public --key release.key > release.pub')
    .action(async (o: { key: string; base64: boolean; json: boolean }) => {
      const file = parseKeyFile(await readKeyText(o.key));
      const pub = { keyId: Buffer.from(file.keyId, 'hex'), publicKey: Buffer.from(file.publicKey, 'base64') };
      if (o.json)
        say(JSON.stringify({ keyId: formatKeyId(pub.keyId), publicKey: encodePublicKey(pub) }, null, 2));
      else if (o.base64) say(encodePublicKey(pub));
      else out.write(encodePublicKeyFile(pub));
    });
}
