/**
 * Remote jobs fan-out: N connected simulated devices (each a real agent with the job runner, its
 * own certificate, mTLS, one process), one job (`sensors` by default) for all of them, timed from
 * the create request until every execution has its result stored. Per-device latency is the
 * server's sent → finished time of each execution. Baseline in the same run: the same simulated
 * devices on Mosquitto, one client on a plain listener publishing the same N `jobs/notify`
 * messages and collecting the N results (no store, no driver, no rate limit): what the device
 * side and the broker cost alone.
 */
import { loadavg } from 'node:os';
import mqtt from 'mqtt';
import type { JobOperation, JobProgress, JobRun } from '../src/contracts/job-messages.ts';
import { systemClock } from '../src/infra/clock.ts';
import { createLogger } from '../src/infra/logger.ts';
import { systemTimers } from '../src/infra/timers.ts';
import { ensureFleetPki } from '../src/pki/fleet-pki.ts';
import { startSimulation, type SimulationHandle } from '../src/sim/simulator.ts';
import { prepareIdentities } from './connect.ts';
import { startFlotilla, startMosquitto, waitUntil } from './processes.ts';

export interface JobsBenchOptions {
  devices: number;
  operation: Extract<JobOperation, 'sensors' | 'self-test'>;
  seed: number;
}

export interface JobsRunResult {
  target: 'flotilla' | 'mosquitto';
  devices: number;
  /** Create request (or first publish) → last result stored (received), in ms. */
  totalMs: number;
  executionsPerS: number;
  /** Per device: sent → finished (server side) or publish → result received (baseline), in ms. */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  succeeded: number;
  /** Broker (server) CPU time during the fan-out, in ms. */
  brokerCpuMs: number;
}

export interface JobsBench {
  date: Date;
  loadAverage: number;
  options: JobsBenchOptions;
  connectMs: number;
  runs: JobsRunResult[];
}

function simDeps() {
  return { clock: systemClock, timers: systemTimers, random: Math.random, logger: createLogger('warn') };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function summarise(
  target: JobsRunResult['target'],
  latencies: number[],
  totalMs: number,
  succeeded: number,
  brokerCpuMs: number,
): JobsRunResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    target,
    devices: latencies.length,
    totalMs,
    executionsPerS: latencies.length / (totalMs / 1000),
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    maxMs: sorted.at(-1) ?? 0,
    succeeded,
    brokerCpuMs,
  };
}

async function connectFleet(
  dataDir: string,
  serverUrl: string,
  options: JobsBenchOptions,
): Promise<{ sim: SimulationHandle; connectMs: number }> {
  const started = performance.now();
  const sim = await startSimulation(simDeps(), {
    devices: options.devices,
    seed: options.seed,
    serverUrl,
    dataDir,
    connectConcurrency: 100,
    heartbeatIntervalS: 300,
    keepaliveS: 300,
    jobs: {},
  });
  await sim.ramped;
  await waitUntil(
    () => Promise.resolve(sim.connectedCount() === options.devices),
    `${options.devices} devices connected`,
    600_000,
  );
  return { sim, connectMs: performance.now() - started };
}

interface ExecutionRow {
  state: string;
  sentAtMs: number | null;
  finishedAtMs: number | null;
}

/** The management API of the server under test: its URL and the `Authorization` header to send. */
interface ApiBase {
  url: string;
  authorization: string;
}

async function api<T>(base: ApiBase, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${base.url}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      authorization: base.authorization,
      ...init?.headers,
    },
  });
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function measureFlotilla(dataDir: string, options: JobsBenchOptions) {
  const flotilla = await startFlotilla(dataDir);
  const base = { url: `http://127.0.0.1:${flotilla.httpPort}`, authorization: flotilla.authorization };
  let sim: SimulationHandle | undefined;
  try {
    const connected = await connectFleet(dataDir, `mqtts://localhost:${flotilla.mqttPort}`, options);
    sim = connected.sim;
    const deviceIds = sim.devices.map((d) => d.deviceId);
    // Every device has told the server what it can do before the job is timed.
    await waitUntil(
      async () => {
        const dry = await api<{ result: { capabilitiesUnknown: number } }>(base, '/api/v1/jobs', {
          method: 'POST',
          body: JSON.stringify({ operation: options.operation, target: { deviceIds }, dryRun: true }),
        });
        return dry.result.capabilitiesUnknown === 0;
      },
      'capabilities from every device',
      120_000,
    );
    process.stderr.write(`flotilla: ${options.operation} job to ${options.devices} devices\n`);
    const cpuBefore = await flotilla.cpuMs();
    const started = performance.now();
    const created = await api<{ job: { id: string } }>(base, '/api/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({
        operation: options.operation,
        target: { deviceIds },
        rateLimitPerMinute: 1_000_000,
        timeoutS: 600,
      }),
    });
    const jobId = created.job.id;
    await waitUntil(
      async () => {
        const view = await api<{ job: { state: string } }>(base, `/api/v1/jobs/${jobId}`);
        return view.job.state !== 'scheduled' && view.job.state !== 'in-progress';
      },
      'every execution finished',
      600_000,
    );
    const totalMs = performance.now() - started;
    const brokerCpuMs = (await flotilla.cpuMs()) - cpuBefore;
    const rows: ExecutionRow[] = [];
    let cursor: string | undefined;
    do {
      const page = await api<{ items: ExecutionRow[]; nextCursor?: string }>(
        base,
        `/api/v1/jobs/${jobId}/executions?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      rows.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const latencies = rows.map((r) => (r.finishedAtMs ?? 0) - (r.sentAtMs ?? 0));
    const succeeded = rows.filter((r) => r.state === 'succeeded').length;
    return {
      run: summarise('flotilla', latencies, totalMs, succeeded, brokerCpuMs),
      connectMs: connected.connectMs,
    };
  } finally {
    await sim?.stop();
    await flotilla.stop();
  }
}

export async function measureMosquitto(dataDir: string, options: JobsBenchOptions) {
  const pki = await ensureFleetPki(dataDir, ['localhost'], Date.now());
  const mosquitto = await startMosquitto(dataDir, pki.paths, { plainListener: true });
  let sim: SimulationHandle | undefined;
  const server = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosquitto.plainPort ?? 0}`, {
    reconnectPeriod: 0,
  });
  try {
    sim = (await connectFleet(dataDir, `mqtts://localhost:${mosquitto.port}`, options)).sim;
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let succeeded = 0;
    server.on('message', (_topic, payload) => {
      const status = JSON.parse(payload.toString('utf8')) as JobProgress | { kind: 'capabilities' };
      if (status.kind === 'capabilities' || status.state === 'in-progress') return;
      const sent = sentAt.get(status.executionId);
      if (sent === undefined) return;
      sentAt.delete(status.executionId);
      latencies.push(performance.now() - sent);
      if (status.state === 'succeeded') succeeded += 1;
    });
    await server.subscribeAsync('fl/d/+/jobs/status', { qos: 1 });
    process.stderr.write(`mosquitto: ${options.operation} to ${options.devices} devices\n`);
    const cpuBefore = await mosquitto.cpuMs();
    const started = performance.now();
    await Promise.all(
      sim.devices.map((device, i) => {
        const run: JobRun = {
          kind: 'run',
          executionId: `bench-${i}`,
          jobId: 'bench',
          attempt: 1,
          operation: options.operation,
          params: {},
          deadlineMs: Date.now() + 600_000,
        };
        sentAt.set(run.executionId, performance.now());
        return server.publishAsync(`fl/d/${device.deviceId}/jobs/notify`, JSON.stringify(run), { qos: 1 });
      }),
    );
    await waitUntil(() => Promise.resolve(latencies.length === options.devices), 'every result', 600_000);
    const totalMs = performance.now() - started;
    const brokerCpuMs = (await mosquitto.cpuMs()) - cpuBefore;
    return summarise('mosquitto', latencies, totalMs, succeeded, brokerCpuMs);
  } finally {
    await server.endAsync(true);
    await sim?.stop();
    await mosquitto.stop();
  }
}

export async function measureJobs(dataDir: string, options: JobsBenchOptions): Promise<JobsBench> {
  await ensureFleetPki(dataDir, ['localhost'], Date.now());
  process.stderr.write(`preparing ${options.devices} device identities (cached in ${dataDir}/sim)\n`);
  await prepareIdentities(dataDir, options.devices, options.seed);
  const flotilla = await measureFlotilla(dataDir, options);
  process.stderr.write(`${JSON.stringify(flotilla.run)}\n`);
  const baseline = await measureMosquitto(dataDir, options);
  process.stderr.write(`${JSON.stringify(baseline)}\n`);
  return {
    date: new Date(),
    loadAverage: loadavg()[0] ?? 0,
    options,
    connectMs: flotilla.connectMs,
    runs: [flotilla.run, baseline],
  };
}
