/** `flotilla simulate`: a fleet of simulated devices, each a real MQTT/TLS connection. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { waitForShutdown } from '../agent/shutdown.ts';
import { systemTimers } from '../infra/timers.ts';
import { systemClock } from '../infra/clock.ts';
import { LOG_LEVELS, createLogger, type LogLevel } from '../infra/logger.ts';
import { createProgressBar } from './progress.ts';
import type { RampResult, SimulationHandle, SimulationOptions } from '../sim/simulator.ts';

const DEFAULT_DEVICES = 100;
const DEFAULT_SERVER = 'mqtts://localhost:8883';

interface SimulateFlags {
  devices?: number;
  server?: string;
  dataDir: string;
  provisionBatch?: string;
  provisionTransport: 'mqtt' | 'https';
  seed: number;
  concurrency: number;
  heartbeat: number;
  json?: boolean;
  logLevel: LogLevel;
  updates?: string;
  pollInterval?: number;
}

function integer(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got ${JSON.stringify(value)}`);
    }
    return Number(value);
  };
}

export interface SimulationSummary {
  devices: number;
  seed: number;
  serverUrl: string;
  connected: number;
  failedFirstAttempt: number;
  identitiesIssued: number;
  identitiesReused: number;
  /** With --provision-batch: devices the server refused to provision. */
  identitiesRefused?: number;
  identitiesMs: number;
  rampMs: number;
  /** Successful first connections per second of ramp time. */
  connectsPerSecond: number;
}

export function summarize(
  options: Pick<SimulationOptions, 'devices' | 'seed' | 'serverUrl'>,
  sim: SimulationHandle,
  ramp: RampResult,
): SimulationSummary {
  return {
    devices: options.devices,
    seed: options.seed,
    serverUrl: options.serverUrl,
    connected: sim.connectedCount(),
    failedFirstAttempt: ramp.failed,
    ...sim.stats,
    rampMs: ramp.rampMs,
    connectsPerSecond: ramp.rampMs > 0 ? Math.round((ramp.connected / ramp.rampMs) * 1000) : ramp.connected,
  };
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'Run N simulated devices in one process, each with its own certificate (issued from the data dir CA, or provisioned with a factory batch; cached) and its own MQTT/TLS connection',
    )
    .addOption(
      new Option(
        '-n, --devices <n>',
        `number of devices (default ${DEFAULT_DEVICES}, or every serial of --provision-batch)`,
      ).argParser(integer(1)),
    )
    .option(
      '--server <url>',
      `gateway address (default ${DEFAULT_SERVER}, or the batch's MQTT endpoint with --provision-batch)`,
    )
    .option(
      '--data-dir <dir>',
      "server data dir: its CA signs the devices' certificates; identities are cached in <dir>/sim",
      '.data',
    )
    .option(
      '--provision-batch <dir>',
      'provision the devices with the claim credential of a `flotilla factory batch --out <dir>`, one per serial of labels.csv',
    )
    .addOption(
      new Option('--provision-transport <transport>', 'how the devices provision')
        .choices(['mqtt', 'https'])
        .default('mqtt'),
    )
    .addOption(
      new Option('--seed <n>', 'fleet seed: same seed, same devices').argParser(integer(0)).default(1),
    )
    .addOption(
      new Option('--concurrency <n>', 'connection attempts in flight while ramping up')
        .argParser(integer(1))
        .default(100),
    )
    .addOption(new Option('--heartbeat <seconds>', 'heartbeat interval').argParser(integer(1)).default(60))
    .option(
      '--updates <device-https-url>',
      'devices take firmware updates (A/B slot files under <data-dir>/sim/devices) from this device HTTPS API, e.g. https://localhost:8443',
    )
    .addOption(
      new Option(
        '--poll-interval <seconds>',
        'with --updates: seconds between update checks (default 6 h)',
      ).argParser(integer(1)),
    )
    .option('--json', 'print the summary as JSON on stdout')
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('warn'),
    )
    .addHelpText(
      'after',
      `
Runs until SIGINT/SIGTERM, then disconnects every device cleanly.

Examples:
  flotilla simulate --devices 1000 --server mqtts://localhost:8883 --data-dir .data --seed 1 --json
  flotilla factory batch --serials serials.txt --model tracker-2 --revision B --out ./batch-1
  flotilla simulate --provision-batch ./batch-1 --data-dir .data
  flotilla simulate --devices 200 --updates https://localhost:8443   # devices that take firmware updates`,
    )
    .action(async (flags: SimulateFlags) => {
      await runSimulate(flags);
    });
}

/** The simulation the flags describe; reads the batch dir with --provision-batch. */
async function simulationOptions(flags: SimulateFlags): Promise<SimulationOptions> {
  const common = {
    seed: flags.seed,
    dataDir: flags.dataDir,
    connectConcurrency: flags.concurrency,
    ...(flags.updates !== undefined
      ? {
          updates: {
            deviceHttpUrl: flags.updates.replace(/\/$/, ''),
            ...(flags.pollInterval !== undefined ? { pollIntervalS: flags.pollInterval } : {}),
          },
        }
      : {}),
  };
  if (flags.provisionBatch === undefined) {
    return {
      ...common,
      devices: flags.devices ?? DEFAULT_DEVICES,
      serverUrl: flags.server ?? DEFAULT_SERVER,
      heartbeatIntervalS: flags.heartbeat,
    };
  }
  const { batchProvisioning, readFactoryBatchDir } = await import('../sim/batch-dir.ts');
  const batch = await readFactoryBatchDir(flags.provisionBatch);
  return {
    ...common,
    devices: Math.min(flags.devices ?? batch.serials.length, batch.serials.length),
    serverUrl: flags.server ?? batch.endpoints.mqttUrl,
    heartbeatIntervalS: flags.heartbeat,
    provision: batchProvisioning(batch, flags.provisionTransport),
  };
}

async function runSimulate(flags: SimulateFlags): Promise<void> {
  // The simulator (the whole agent) is loaded when it runs; every other command starts without it.
  const { startSimulation } = await import('../sim/simulator.ts');
  const logger = createLogger(flags.logLevel, process.stderr);
  const showProgress = process.stderr.isTTY && !flags.json;
  const options = await simulationOptions(flags);
  const bar = createProgressBar(options.devices, 'connected');
  if (showProgress) {
    const how = options.provision ? 'provisioning' : 'preparing';
    process.stderr.write(`${how} ${options.devices} device identities…\n`);
  }

  const sim = await startSimulation(
    { clock: systemClock, timers: systemTimers, random: Math.random, logger },
    {
      ...options,
      ...(showProgress ? { onProgress: (connected: number) => bar.update(connected) } : {}),
    },
  );
  const ramp = await sim.ramped;
  if (showProgress) bar.finish(sim.connectedCount());
  const summary = summarize(options, sim, ramp);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const refused = summary.identitiesRefused ? `, ${summary.identitiesRefused} refused by the server` : '';
    process.stdout.write(
      `${summary.connected}/${summary.devices} devices connected to ${summary.serverUrl}` +
        ` (${summary.failedFirstAttempt} still retrying)\n` +
        `identities: ${summary.identitiesIssued} ${options.provision ? 'provisioned' : 'issued'}, ${summary.identitiesReused} reused${refused} in ${summary.identitiesMs} ms\n` +
        `ramp: ${summary.rampMs} ms, ${summary.connectsPerSecond} connects/s\n` +
        'Press Ctrl+C to stop.\n',
    );
  }
  const reason = await waitForShutdown();
  logger.info({ reason }, 'stopping simulation');
  await sim.stop();
  if (!flags.json) process.stderr.write('all devices disconnected\n');
}
