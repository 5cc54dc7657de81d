/**
 * `npm run bench`: runs the benchmarks and writes docs/benchmarks.md with the numbers, the machine,
 * and the same-run baseline each is compared against.
 *
 * Usage: npm run bench [-- --devices 1000,10000]
 *        npm run bench -- --only downloads|rollouts|telemetry|fleet|jobs|dashboard   (one section, spliced into the existing file;
 *          --json FILE also writes its raw results, machine-readable)
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
import { measureRollouts } from './rollouts.ts';
import { ROLLOUT_SECTION_HEADING, renderRolloutSection } from './rollouts-report.ts';
import { measureFleetQueries } from './fleet.ts';
import { fleetProbes } from './fleet-probes.ts';
import { FLEET_SECTION_HEADING, renderFleetSection } from './fleet-report.ts';
import { measureTelemetry } from './telemetry.ts';
import { TELEMETRY_SECTION_HEADING, renderTelemetrySection } from './telemetry-report.ts';
import { writeBenchmarksJson } from './benchmarks-json.ts';
import { measureJobs } from './jobs.ts';
import { JOBS_SECTION_HEADING, renderJobsSection } from './jobs-report.ts';
import { measureDashboard } from './bench-dashboard.ts';
import { DASHBOARD_SECTION_HEADING, renderDashboardSection } from './dashboard-report.ts';

const SEED = 1;

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000,10000' },
    'provision-devices': { type: 'string', default: '1000' },
    'sign-csrs': { type: 'string', default: '300' },
    'download-mib': { type: 'string', default: '64' },
    'download-clients': { type: 'string', default: '1,8,32' },
    'rollout-devices': { type: 'string', default: '100000,1000000' },
    'status-devices': { type: 'string', default: '20000' },
    'fleet-devices': { type: 'string', default: '100000,1000000' },
    'fleet-runs': { type: 'string', default: '5' },
    'postgres-url': {
      type: 'string',
      default: process.env.FLOTILLA_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    'telemetry-devices': { type: 'string', default: '50' },
    'telemetry-seconds': { type: 'string', default: '15' },
    'latest-devices': { type: 'string', default: '100000' },
    'telemetry-postgres-url': { type: 'string' },
    'jobs-devices': { type: 'string', default: '10000' },
    'jobs-operation': { type: 'string', default: 'sensors' },
    'dashboard-devices': { type: 'string', default: '100000' },
    'dashboard-runs': { type: 'string', default: '5' },
    json: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run bench [-- --devices 1000,10000] [--provision-devices 1000] [--sign-csrs 300]\n' +
      '         [--download-mib 64] [--download-clients 1,8,32] [--rollout-devices 100000,1000000]\n' +
      '         [--status-devices 20000] [--fleet-devices 100000,1000000] [--fleet-runs 5] [--postgres-url URL]\n' +
      '         [--telemetry-devices 50] [--telemetry-seconds 15] [--latest-devices 100000] [--telemetry-postgres-url URL]\n' +
      '         [--jobs-devices 10000] [--jobs-operation sensors|self-test]\n' +
      '         [--dashboard-devices 100000] [--dashboard-runs 5]\n' +
      '         [--only downloads|rollouts|telemetry|fleet|jobs|dashboard [--json FILE]] [--out docs/benchmarks.md]\n',
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
const rolloutsDir = resolve('.data/bench-rollouts');
const fleetDir = resolve('.data/bench-fleet');
const rolloutOptions = {
  planDevices: wholeNumbers('rollout-devices', values['rollout-devices']),
  statusDevices: wholeNumbers('status-devices', values['status-devices'])[0] ?? 20_000,
  tickEvery: 5_000,
};

const telemetryDir = resolve('.data/bench-telemetry');
const telemetryOptions = {
  devices: wholeNumbers('telemetry-devices', values['telemetry-devices'])[0] ?? 50,
  inFlight: 8,
  durationS: wholeNumbers('telemetry-seconds', values['telemetry-seconds'])[0] ?? 15,
  latestDevices: wholeNumbers('latest-devices', values['latest-devices'])[0] ?? 100_000,
  historyDevices: 100,
  requests: 100,
  ...(values['telemetry-postgres-url'] !== undefined
    ? { postgres: { url: values['telemetry-postgres-url'], schema: 'flotilla_bench_telemetry' } }
    : {}),
};

const jobsDir = resolve('.data/bench-jobs');
const jobsOperation = values['jobs-operation'];
if (jobsOperation !== 'sensors' && jobsOperation !== 'self-test')
  throw new Error(`--jobs-operation: sensors or self-test, got ${jobsOperation}`);
const jobsOptions = {
  devices: wholeNumbers('jobs-devices', values['jobs-devices'])[0] ?? 10_000,
  operation: jobsOperation,
  seed: SEED,
} as const;

const dashboardDir = resolve('.data/bench-dashboard');
const dashboardRuns = wholeNumbers('dashboard-runs', values['dashboard-runs'])[0] ?? 5;
const dashboardOptions = {
  devices: wholeNumbers('dashboard-devices', values['dashboard-devices'])[0] ?? 100_000,
  runs: dashboardRuns,
  // One server start per cold load (the bundle is built once per process).
  coldRuns: Math.min(dashboardRuns, 3),
};

/** The sections that run alone: measure, render, and the raw results. */
const sections: Record<
  string,
  () => Promise<{ heading: string; markdown: string; results: unknown } | undefined>
> = {
  downloads: async () => {
    const downloads = await measureDownloads(downloadsDir, downloadOptions);
    return (
      downloads && {
        heading: DOWNLOAD_SECTION_HEADING,
        markdown: renderDownloadSection(downloads),
        results: downloads,
      }
    );
  },
  rollouts: async () => {
    await mkdir(rolloutsDir, { recursive: true });
    const rollouts = await measureRollouts(rolloutsDir, rolloutOptions);
    return { heading: ROLLOUT_SECTION_HEADING, markdown: renderRolloutSection(rollouts), results: rollouts };
  },
  fleet: async () => {
    const fleet = await measureFleet();
    return { heading: FLEET_SECTION_HEADING, markdown: renderFleetSection(fleet), results: fleet };
  },
  jobs: async () => {
    const jobs = await measureJobs(jobsDir, jobsOptions);
    return { heading: JOBS_SECTION_HEADING, markdown: renderJobsSection(jobs), results: jobs };
  },
  dashboard: async () => {
    const dashboard = await measureDashboard(dashboardDir, dashboardOptions);
    return {
      heading: DASHBOARD_SECTION_HEADING,
      markdown: renderDashboardSection(dashboard),
      results: dashboard,
    };
  },
  telemetry: async () => {
    const telemetry = await measureTelemetry(telemetryDir, telemetryOptions);
    return {
      heading: TELEMETRY_SECTION_HEADING,
      markdown: renderTelemetrySection(telemetry),
      results: telemetry,
    };
  },
};

function measureFleet() {
  return mkdir(fleetDir, { recursive: true }).then(() =>
    measureFleetQueries(fleetDir, {
      sizes: wholeNumbers('fleet-devices', values['fleet-devices']),
      runs: wholeNumbers('fleet-runs', values['fleet-runs'])[0] ?? 5,
      postgresUrl: values['postgres-url'],
      probe: fleetProbes,
    }),
  );
}

if (values.only !== undefined) {
  const measure = sections[values.only];
  if (measure === undefined)
    throw new Error(`--only: the sections run alone are ${Object.keys(sections).join(', ')}`);
  const section = await measure();
  if (section) {
    const existing = await readFile(values.out, 'utf8').catch(() => '# Benchmarks\n');
    await writeFile(values.out, replaceSection(existing, section.heading, section.markdown));
    if (values.json !== undefined)
      await writeFile(
        values.json,
        `${JSON.stringify({ machine: machineInfo(), ...(section.results as object) }, null, 2)}\n`,
      );
    process.stdout.write(section.markdown);
    // Machine-readable figures for `flotilla plan` (docs/plan.md); the other sections keep theirs.
    await writeBenchmarksJson({ [values.only]: section.results }, machineInfo(), new Date());
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
              await fetch(`http://127.0.0.1:${flotilla.httpPort}/api/v1/fleet/summary`, {
                headers: { authorization: flotilla.authorization },
              })
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
await mkdir(rolloutsDir, { recursive: true });
const rollouts = await measureRollouts(rolloutsDir, rolloutOptions);
const telemetry = await measureTelemetry(telemetryDir, telemetryOptions);

const fleet = await measureFleet();
const jobs = await measureJobs(jobsDir, jobsOptions);
const dashboard = await measureDashboard(dashboardDir, dashboardOptions);

const report = renderReport({
  machine: machineInfo(),
  results,
  identities,
  signing,
  provisioning,
  deltas,
  downloads,
  rollouts,
  telemetry,
  date: new Date(),
});
const withFleet = replaceSection(report, FLEET_SECTION_HEADING, renderFleetSection(fleet));
const withJobs = replaceSection(withFleet, JOBS_SECTION_HEADING, renderJobsSection(jobs));
const withDashboard = replaceSection(withJobs, DASHBOARD_SECTION_HEADING, renderDashboardSection(dashboard));
await writeFile(values.out, withDashboard);
await writeBenchmarksJson(
  { connections: results, telemetry, downloads, deltas, provisioning },
  machineInfo(),
  new Date(),
);
process.stdout.write(withDashboard);
