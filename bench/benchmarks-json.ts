/**
 * docs/benchmarks.json: the figures the fleet plan's cost model reads (src/plan/benchmarks.ts),
 * rewritten by every `npm run bench`. Sections not measured in this run keep their earlier
 * values (and their own `measuredAt`); sections other parts of the bench add (e.g. `jobs`) are kept.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { TELEMETRY_DEFAULTS } from '../src/agent/telemetry/settings.ts';
import { healthMetricNames } from '../src/contracts/telemetry-messages.ts';
import { benchmarkFiguresSchema } from '../src/plan/benchmarks.ts';
import type { ConnectResult } from './connect.ts';
import type { DeltaResult } from './delta.ts';
import type { DownloadBench } from './downloads.ts';
import type { MachineInfo } from './machine.ts';
import type { ProvisioningResult } from './provisioning.ts';
import type { TelemetryBench } from './telemetry.ts';

export const BENCHMARKS_JSON = 'docs/benchmarks.json';

const DAY_MS = 86_400_000;
/** telemetry-bytes.ts: two application readings every 30 s and one counter sampled every 10 s. */
const BENCH_APP_METRICS = 3;
const RAW_POINTS_PER_DAY = healthMetricNames.length * 1440 + 2 * 2880 + 8640;

export interface BenchResults {
  connections?: ConnectResult[];
  telemetry?: TelemetryBench;
  downloads?: DownloadBench;
  deltas?: DeltaResult[];
  provisioning?: ProvisioningResult;
}

function connections(results: ConnectResult[], at: string) {
  const flotilla = results.filter((r) => r.target === 'flotilla').sort((a, b) => b.devices - a.devices)[0];
  return (
    flotilla && {
      measuredAt: at,
      devices: flotilla.devices,
      kibPerDevice: Math.round((flotilla.bytesPerDevice / 1024) * 10) / 10,
      brokerCpuMsPerConnect: flotilla.brokerCpuMsPerConnect,
      connectsPerS: flotilla.connectsPerS,
    }
  );
}

function telemetry(bench: TelemetryBench, previous: Record<string, unknown> | undefined) {
  const run = (target: string) => bench.ingest.find((r) => r.target === target);
  const ingest = (target: string) => {
    const r = run(target);
    return (
      r && { batchesPerS: r.messagesPerS, pointsPerS: r.pointsPerS, brokerCpuMsPer1000: r.brokerCpuMsPer1000 }
    );
  };
  const aggregatedPoints =
    healthMetricNames.length * (DAY_MS / TELEMETRY_DEFAULTS.health.windowMs) +
    BENCH_APP_METRICS * (DAY_MS / TELEMETRY_DEFAULTS.app.windowMs);
  const unstored = run('flotilla-unstored');
  return {
    ...previous,
    measuredAt: bench.date.toISOString(),
    ...(ingest('flotilla') ? { sqlite: ingest('flotilla') } : {}),
    // PostgreSQL ingest runs only with --telemetry-postgres-url; otherwise the earlier figure stays.
    ...(ingest('flotilla-postgres') ? { postgres: ingest('flotilla-postgres') } : {}),
    ...(unstored
      ? { unstored: { batchesPerS: unstored.messagesPerS, brokerCpuMsPer1000: unstored.brokerCpuMsPer1000 } }
      : {}),
    bytesPerDevicePerDay: {
      aggregated: { ...bench.bytes.aggregated, points: aggregatedPoints },
      raw: { ...bench.bytes.raw, points: RAW_POINTS_PER_DAY },
    },
  };
}

function downloads(bench: DownloadBench) {
  const rated = bench.results
    .filter((r) => r.server === 'flotilla' && r.failed === 0)
    .map((r) => {
      const bytes = r.fileBytes * r.downloads;
      return {
        mbPerS: bytes / 1e6 / (r.wallMs / 1000),
        serverCpuSPerGiB: r.serverCpuMs / 1000 / (bytes / 2 ** 30),
      };
    })
    .sort((a, b) => b.mbPerS - a.mbPerS)[0];
  return rated && { measuredAt: bench.date.toISOString(), ...rated };
}

function deltas(results: DeltaResult[], at: string) {
  const ours = results.filter((r) => r.tool === 'flotilla' && r.verified);
  // Consecutive released binaries when the bench had them; else the largest patch measured.
  const released = ours.find((r) => r.pair.includes('released binaries'));
  const fractions = (released ? [released] : ours).map((r) => r.patchBytes / r.newBytes);
  return fractions.length > 0 ? { measuredAt: at, releasePatchFraction: Math.max(...fractions) } : undefined;
}

/** Merges this run's figures into the file and checks the result against the plan's schema. */
export async function writeBenchmarksJson(
  results: BenchResults,
  machine: MachineInfo,
  date: Date,
  file = BENCHMARKS_JSON,
): Promise<void> {
  const previous = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  const at = date.toISOString();
  const sections: Record<string, unknown> = {
    connections: results.connections && connections(results.connections, at),
    telemetry:
      results.telemetry && telemetry(results.telemetry, previous['telemetry'] as Record<string, unknown>),
    downloads: results.downloads && downloads(results.downloads),
    deltas: results.deltas && deltas(results.deltas, at),
    provisioning: results.provisioning && {
      measuredAt: at,
      perS: results.provisioning.perS,
      concurrency: results.provisioning.concurrency,
    },
  };
  if (Object.values(sections).every((value) => value === undefined)) return;
  const next: Record<string, unknown> = {
    ...previous,
    source: `npm run bench, ${at}`,
    machine: { cpu: machine.cpu, cores: machine.cores, memoryGiB: machine.memoryGiB, node: machine.node },
  };
  for (const [name, value] of Object.entries(sections)) if (value !== undefined) next[name] = value;
  const checked = benchmarkFiguresSchema.safeParse(next);
  if (!checked.success) {
    process.stderr.write(`${file} not written: ${checked.error.message}\n`);
    return;
  }
  await writeFile(file, `${JSON.stringify(next, null, 2)}\n`);
}
