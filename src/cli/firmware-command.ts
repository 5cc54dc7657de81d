/** `flotilla firmware publish|list`: upload images and publish releases (deployments: firmware-deploy-command.ts). */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Command } from 'commander';
import { releaseSchema, storedArtifactSchema } from '../api/routes/firmware.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { createProgressBar } from './progress.ts';
import { printTable } from './output.ts';
import { registerFirmwareDiffCommand } from './firmware-diff.ts';
import { registerDeploymentCommands } from './firmware-deploy-command.ts';
import { registerSignMetadataCommand } from './sign-metadata-command.ts';

interface PublishFlags {
  version: string;
  model: string;
  revision: string[];
  security: boolean;
  minVersion?: string;
  mandatory: boolean;
  notes?: string;
  signature?: string;
  server: string;
  json: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Streams the file to the server, drawing a progress bar of bytes sent. */
async function upload(
  client: ApiClient,
  file: string,
  quiet: boolean,
): Promise<z.output<typeof storedArtifactSchema>> {
  const { size } = await stat(file);
  const bar = createProgressBar(size, 'bytes uploaded');
  let sent = 0;
  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  source.on('data', (chunk) => {
    sent += chunk.length;
    if (!quiet) bar.update(sent);
  });
  const artifact = await client.upload(
    '/api/v1/firmware/artifacts',
    storedArtifactSchema,
    Readable.toWeb(source) as ReadableStream<Uint8Array>,
    size,
  );
  if (!quiet) bar.finish(size);
  return artifact;
}

/** `2.4.0 (12345 B), 2.3.0 skipped` — ready patches with their size, others with their status. */
function deltaSummary(deltas: z.output<typeof releaseSchema>['deltas']): string {
  const parts = deltas.map((d) =>
    d.status === 'ready' ? `${d.baseVersion} (${d.patchSize ?? 0} B)` : `${d.baseVersion} ${d.status}`,
  );
  return parts.join(', ') || '-';
}

export function registerFirmwareCommand(program: Command): Command {
  const firmware = program.command('firmware').description('Firmware images, releases and delta patches');
  registerFirmwareDiffCommand(firmware);
  registerDeploymentCommands(firmware);
  registerSignMetadataCommand(firmware);
  firmware
    .command('publish')
    .description('Upload an image and publish it as a release for a hardware model')
    .argument('<file>', 'the image')
    .requiredOption('--version <semver>', 'release version (semantic version, e.g. 2.4.1)')
    .requiredOption('--model <model>', 'hardware model the image is for')
    .option(
      '--revision <rev>',
      'compatible hardware revision; repeat for several (default: every revision)',
      collect,
      [],
    )
    .option('--security', 'security-relevant release', false)
    .option(
      '--min-version <semver>',
      'with --security: lowest version allowed to keep running (anti-rollback floor)',
    )
    .option('--mandatory', 'devices install it without waiting for a rollout', false)
    .option('--notes <text>', 'release notes')
    .option(
      '--signature <file.minisig>',
      'your detached minisign signature of the image (else the server signs it with its own key)',
    )
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print the release as JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla firmware publish build/tracker-2.4.1.img --version 2.4.1 --model tracker-2 --revision B --revision C',
    )
    .action(async (file: string, flags: PublishFlags) => {
      const client = new ApiClient(flags.server);
      const signature = flags.signature === undefined ? undefined : await readFile(flags.signature, 'utf8');
      const artifact = await upload(client, file, flags.json || !process.stderr.isTTY);
      const release = await client.post('/api/v1/firmware/releases', releaseSchema, {
        version: flags.version,
        hardwareModel: flags.model,
        hardwareRevisions: flags.revision,
        sha256: artifact.sha256,
        security: flags.security,
        minVersion: flags.minVersion ?? null,
        mandatory: flags.mandatory,
        notes: flags.notes ?? '',
        ...(signature === undefined ? {} : { signature }),
      });
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(release)}\n`
          : `published ${release.id} (${release.size} bytes, sha256 ${release.sha256}, ` +
              `${signature === undefined ? 'signed by the server' : 'your signature verified'}); ` +
              'delta patches are built in the background (`flotilla firmware list`)\n',
      );
    });
  firmware
    .command('list')
    .description('Releases, newest version first')
    .option('--model <model>', 'only this hardware model')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (flags: { model?: string; server: string; json: boolean }) => {
      const { items } = await new ApiClient(flags.server).get(
        '/api/v1/firmware/releases',
        z.object({ items: z.array(releaseSchema) }),
        flags.model ? [['model', flags.model]] : [],
      );
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
        return;
      }
      printTable(
        ['RELEASE', 'REVISIONS', 'SIZE', 'SECURITY', 'MANDATORY', 'MINISIG', 'DELTAS FROM', 'SHA256'],
        items.map((r) => [
          r.id,
          r.hardwareRevisions.join(',') || '*',
          String(r.size),
          r.security ? `min ${r.minVersion ?? '-'}` : '-',
          r.mandatory ? 'yes' : '-',
          r.minisig ? 'yes' : '-',
          deltaSummary(r.deltas),
          r.sha256.slice(0, 16),
        ]),
      );
    });
  return firmware;
}
