/** `flotilla simulate`: a fleet of simulated devices, each a real MQTT/TLS connection. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { waitForShutdown } from '../agent/shutdown.ts';
import { systemTimers } from '../infra/timers.ts';
import { systemClock } from '../infra/clock.ts';
import { LOG_LEVELS, createLogger, type LogLevel } from '../infra/logger.ts';
import { createProgressBar } from './progress.ts';
import { startSimulation, type RampResult, type SimulationHandle } from '../sim/simulator.ts';

interface SimulateFlags {
  devices: number;
  server: string;
  dataDir: string;
  seed: number;
  concurrency: number;
  heartbeat: number;
  json?: boolean;
  logLevel: LogLevel;
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
  identitiesMs: number;
  rampMs: number;
  /** Successful first connections per second of ramp time. */
  connectsPerSecond: number;
}

export function summarize(flags: SimulateFlags, sim: SimulationHandle, ramp: RampResult): SimulationSummary {
  return {
    devices: flags.devices,
    seed: flags.seed,
    serverUrl: flags.server,
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
      'Run N simulated devices in one process, each with its own certificate (issued from the data dir CA and cached) and its own MQTT/TLS connection',
    )
    .addOption(new Option('-n, --devices <n>', 'number of devices').argParser(integer(1)).default(100))
    .option('--server <url>', 'gateway address', 'mqtts://localhost:8883')
    .option('--data-dir <dir>', "server data dir: its CA signs the devices' certificates", '.data')
    .addOption(
      new Option('--seed <n>', 'fleet seed: same seed, same devices').argParser(integer(0)).default(1),
    )
    .addOption(
      new Option('--concurrency <n>', 'connection attempts in flight while ramping up')
        .argParser(integer(1))
        .default(100),
    )
    .addOption(new Option('--heartbeat <seconds>', 'heartbeat interval').argParser(integer(1)).default(60))
    .option('--json', 'print the summary as JSON on stdout')
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('warn'),
    )
    .addHelpText(
      'after',
      `
Runs until SIGINT/SIGTERM, then disconnects every device cleanly.

Example:
  flotilla simulate --devices 1000 --server mqtts://localhost:8883 --data-dir .data --seed 1 --json`,
    )
    .action(async (flags: SimulateFlags) => {
      await runSimulate(flags);
    });
}

async function runSimulate(flags: SimulateFlags): Promise<void> {
  const logger = createLogger(flags.logLevel, process.stderr);
  const showProgress = process.stderr.isTTY && !flags.json;
  const bar = createProgressBar(flags.devices, 'connected');
  if (showProgress) process.stderr.write(`preparing ${flags.devices} device identities…\n`);

  const sim = await startSimulation(
    { clock: systemClock, timers: systemTimers, random: Math.random, logger },
    {
      devices: flags.devices,
      seed: flags.seed,
      serverUrl: flags.server,
      dataDir: flags.dataDir,
      connectConcurrency: flags.concurrency,
      heartbeatIntervalS: flags.heartbeat,
      ...(showProgress ? { onProgress: (connected: number) => bar.update(connected) } : {}),
    },
  );
  const ramp = await sim.ramped;
  if (showProgress) bar.finish(sim.connectedCount());
  const summary = summarize(flags, sim, ramp);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `${summary.connected}/${summary.devices} devices connected to ${summary.serverUrl}` +
        ` (${summary.failedFirstAttempt} still retrying)\n` +
        `identities: ${summary.identitiesIssued} issued, ${summary.identitiesReused} reused in ${summary.identitiesMs} ms\n` +
        `ramp: ${summary.rampMs} ms, ${summary.connectsPerSecond} connects/s\n` +
        'Press Ctrl+C to stop.\n',
    );
  }
  const reason = await waitForShutdown();
  logger.info({ reason }, 'stopping simulation');
  await sim.stop();
  if (!flags.json) process.stderr.write('all devices disconnected\n');
}
