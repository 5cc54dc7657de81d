/**
 * `flotilla firmware sign-metadata --key FILE`: the offline half of two-step publishing. Fetches
 * the targets metadata the server staged while its targets key is offline, shows it, signs its
 * canonical JSON (TUF 4.2) with the targets key and posts the signature back.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  pendingTargetsSchema,
  publishedVersionsSchema,
  type signedTargetsBodySchema,
} from '../api/routes/update-metadata.ts';
import { ValidationError } from '../infra/errors.ts';
import { canonicalSignedBytes, ed25519Signer } from '../signing/tuf/index.ts';
import type { PublishedVersions } from '../signing/tuf/index.ts';
import type { z } from 'zod';
import { ApiClient, defaultServerUrl } from './api-client.ts';

/** What was signed and what the server published; `--json` prints this. */
export interface SignMetadataResult {
  signed: { version: number; targets: string[]; expires: unknown; keyId: string };
  published: PublishedVersions;
}

/**
 * Signs and publishes the staged targets metadata with the Ed25519 PKCS#8 PEM key in `keyFile`
 * (the format of `<dataDir>/tuf/keys/targets.pem`). `show` sees the metadata before it is signed.
 */
export async function signPendingMetadata(
  options: { server: string; keyFile: string },
  show: (pending: z.output<typeof pendingTargetsSchema>) => void = () => {},
): Promise<SignMetadataResult> {
  let signer;
  try {
    signer = ed25519Signer(createPrivateKey(await readFile(options.keyFile, 'utf8')));
  } catch (err) {
    throw new ValidationError(`cannot read the Ed25519 key ${options.keyFile}: ${(err as Error).message}`);
  }
  const client = new ApiClient(options.server);
  const pending = await client.get('/api/v1/firmware/metadata/pending', pendingTargetsSchema);
  // Sign what was shown: the bytes must be the canonical form of `signed`, not just any bytes.
  const bytes = canonicalSignedBytes(pending.signed);
  if (!bytes.equals(Buffer.from(pending.canonical, 'base64'))) {
    throw new ValidationError('the server sent canonical bytes that do not match the metadata; not signing');
  }
  show(pending);
  const sig = await signer.sign(bytes);
  const body: z.input<typeof signedTargetsBodySchema> = {
    version: pending.version,
    signed: pending.signed,
    signatures: [{ keyid: signer.keyId, sig: sig.toString('hex') }],
  };
  const published = await client.post(
    '/api/v1/firmware/metadata/pending/signatures',
    publishedVersionsSchema,
    body,
  );
  return {
    signed: {
      version: pending.version,
      targets: pending.targets,
      expires: pending.signed['expires'],
      keyId: signer.keyId,
    },
    published,
  };
}

export function registerSignMetadataCommand(firmware: Command): void {
  firmware
    .command('sign-metadata')
    .description('Sign the TUF targets metadata staged while the targets key is offline, and publish it')
    .requiredOption('--key <file>', 'the TUF targets key (Ed25519 PKCS#8 PEM, like tuf/keys/targets.pem)')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print what was signed and published as JSON', false)
    .addHelpText(
      'after',
      '\nRun it where the targets key is kept, after publishing releases with the key offline:\n' +
        '  flotilla firmware sign-metadata --key /media/offline/targets.pem --server https://flotilla.example:8080',
    )
    .action(async (flags: { key: string; server: string; json: boolean }) => {
      const result = await signPendingMetadata({ server: flags.server, keyFile: flags.key }, (pending) => {
        if (flags.json) return;
        process.stdout.write(
          `signing targets metadata v${pending.version} (expires ${String(pending.signed['expires'])}) ` +
            `adding: ${pending.targets.join(', ')}\n`,
        );
      });
      const { targets, snapshot, timestamp } = result.published;
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(result)}\n`
          : `published targets v${targets}, snapshot v${snapshot}, timestamp v${timestamp} (key ${result.signed.keyId.slice(0, 16)})\n`,
      );
    });
}
