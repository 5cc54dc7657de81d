/**
 * `npm run bench`: runs the benchmarks and writes docs/benchmarks.md with the numbers, the machine,
 * and the same-run baseline each is compared against.
 *
 * Usage: npm run bench [-- --devices 1000,10000]
 *        npm run bench -- --only downloads   (one section, spliced into the existing file)
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureFleetPki } from '../src/pki/fleet-pki.ts';
import { machineInfo } from './machine.ts';
import { measureConnects, prepareIdentities, type ConnectResult } from './connect.ts';
import { startFlotilla, startMosquitto } from './processes.ts';
import { renderReport, replaceSection } from './report.ts';
import { measureSigning } from './signing.ts';
import { measureProvisioning } from './provisioning.ts';
import { measureDeltas } from './delta.ts';
import { DOWNLOAD_SECTION_HEADING, measureDownloads, renderDownloadSection } from './downloads.ts';

const SEED = 1;

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000,10000' },
    'provision-devices': { type: 'string', default: '1000' },
    'sign-csrs': { type: 'string', default: '300' },
    'download-mib': { type: 'string', default: '64' },
    'download-clients': { type: 'string', default: '1,8,32' },
    only: { type: 'string' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run bench [-- --devices 1000,10000] [--provision-devices 1000] [--sign-csrs 300]\n' +
      '         [--download-mib 64] [--download-clients 1,8,32] [--only downloads] [--out docs/benchmarks.md]\n',
  );
  process.exit(0);
}
function wholeNumbers(flag: string, list: string): number[] {
  const numbers = list.split(',').map((s) => Number(s.trim()));
  if (numbers.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`--${flag}: whole numbers separated by commas, got ${list}`);
  return numbers;
}
const sizes = wholeNumbers('devices', values.devices);
const downloadOptions = {
  fileMiB: wholeNumbers('download-mib', values['download-mib'])[0] ?? 64,
  clients: wholeNumbers('download-clients', values['download-clients']),
};
const downloadsDir = resolve('.data/bench-downloads');

if (values.only !== undefined) {
  if (values.only !== 'downloads') throw new Error(`--only: the only section run alone is "downloads"`);
  const downloads = await measureDownloads(downloadsDir, downloadOptions);
  if (downloads) {
    const section = renderDownloadSection(downloads);
    const existing = await readFile(values.out, 'utf8').catch(() => '# Benchmarks\n');
    await writeFile(values.out, replaceSection(existing, DOWNLOAD_SECTION_HEADING, section));
    process.stdout.write(section);
  }
  process.exit(0);
}

const dataDir = resolve('.data/bench');
await mkdir(dataDir, { recursive: true });
const pki = await ensureFleetPki(dataDir, ['localhost'], Date.now());
process.stderr.write(`preparing ${Math.max(...sizes)} device identities (cached in ${dataDir}/sim)\n`);
const identities = await prepareIdentities(dataDir, Math.max(...sizes), SEED);

const results: ConnectResult[] = [];
for (const devices of sizes) {
  // A fresh registry per run: every device is new to the server, as on a first deployment.
  for (const suffix of ['', '-wal', '-shm']) await rm(join(dataDir, `flotilla.db${suffix}`), { force: true });
  const flotilla = await startFlotilla(dataDir);
  try {
    results.push(
      await measureConnects(
        {
          target: 'flotilla',
          devices,
          dataDir,
          serverUrl: `mqtts://localhost:${flotilla.mqttPort}`,
          broker: flotilla,
          settled: async () => {
            const summary = (await (
              await fetch(`http://127.0.0.1:${flotilla.httpPort}/api/v1/fleet/summary`)
            ).json()) as { online: number };
            return summary.online === devices;
          },
        },
        SEED,
      ),
    );
  } finally {
    await flotilla.stop();
  }

  const mosquitto = await startMosquitto(dataDir, pki.paths);
  try {
    results.push(
      await measureConnects(
        {
          target: 'mosquitto',
          devices,
          dataDir,
          serverUrl: `mqtts://localhost:${mosquitto.port}`,
          broker: mosquitto,
        },
        SEED,
      ),
    );
  } finally {
    await mosquitto.stop();
  }
}

const signing = await measureSigning(pki, join(dataDir, 'signing'), Number(values['sign-csrs']));

// Provisioning against a fresh registry, so every serial is new.
const provisioningDir = resolve('.data/bench-provisioning');
await rm(provisioningDir, { recursive: true, force: true });
const provisioningServer = await startFlotilla(provisioningDir);
let provisioning;
try {
  provisioning = await measureProvisioning(provisioningServer, Number(values['provision-devices']), 50);
} finally {
  await provisioningServer.stop();
}

const deltas = await measureDeltas(resolve('.data/bench-deltas'));
const downloads = await measureDownloads(downloadsDir, downloadOptions);

const report = renderReport({
  machine: machineInfo(),
  results,
  identities,
  signing,
  provisioning,
  deltas,
  downloads,
  date: new Date(),
});
await writeFile(values.out, report);
process.stdout.write(report);
