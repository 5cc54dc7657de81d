/**
 * `npm run bench`: runs the benchmarks and writes docs/benchmarks.md with the numbers, the machine,
 * and the same-run baseline each is compared against.
 *
 * Usage: npm run bench [-- --devices 1000,10000]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureFleetPki } from '../src/pki/fleet-pki.ts';
import { machineInfo } from './machine.ts';
import { measureConnects, prepareIdentities, type ConnectResult } from './connect.ts';
import { startFlotilla, startMosquitto } from './processes.ts';
import { renderReport } from './report.ts';
import { measureSigning } from './signing.ts';
import { measureProvisioning } from './provisioning.ts';
import { measureDeltas } from './delta.ts';

const SEED = 1;

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000,10000' },
    'provision-devices': { type: 'string', default: '1000' },
    'sign-csrs': { type: 'string', default: '300' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run bench [-- --devices 1000,10000] [--provision-devices 1000] [--sign-csrs 300] [--out docs/benchmarks.md]\n',
  );
  process.exit(0);
}
const sizes = values.devices.split(',').map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n <= 0))
  throw new Error(`--devices: whole numbers separated by commas, got ${values.devices}`);

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

const report = renderReport({
  machine: machineInfo(),
  results,
  identities,
  signing,
  provisioning,
  deltas,
  date: new Date(),
});
await writeFile(values.out, report);
process.stdout.write(report);
