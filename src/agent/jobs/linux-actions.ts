/**
 * DeviceActions of the Linux agent daemon. Reboot and recovery run the argv the config names
 * (none configured → rejected `not_configured`); factory reset wipes the state dir (keeping the
 * identity unless asked); logs bundle the configured log files and the recent-lines ring and
 * upload them; sensors read the same Linux health source as telemetry; custom commands come from
 * the config.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jobOperations, MAX_LOG_BUNDLE_BYTES } from '../../contracts/job-messages.ts';
import { healthMetrics } from '../../contracts/telemetry-messages.ts';
import type { Clock } from '../../infra/clock.ts';
import type { MetricSource } from '../telemetry/collector.ts';
import type { CommandRunner } from '../update/command-runner.ts';
import { runCustomCommand, type CustomCommand } from './custom-command.ts';
import { wipeStateDir } from './factory-reset.ts';
import { buildLogBundle } from './log-bundle.ts';
import type { LogRing } from './log-ring.ts';
import type { LogUploader } from './log-upload.ts';
import {
  brokerRoundTripCheck,
  certificateCheck,
  clockSaneCheck,
  freeDiskCheck,
  runSelfTest,
  stateDirWritableCheck,
} from './self-test.ts';
import { ActionRejectedError, type DeviceActions } from './types.ts';

/** The file marking that recovery mode was asked for (read by the recovery system, kept across reboots). */
export const RECOVERY_FLAG_FILE = 'recovery.json';

export interface LinuxActionsOptions {
  clock: Clock;
  runner: CommandRunner;
  stateDir: string;
  certPem: () => string;
  commands: readonly CustomCommand[];
  rebootCommand?: readonly string[];
  recoveryCommand?: readonly string[];
  logFiles: readonly string[];
  ring: LogRing;
  /** Undefined: no device API URL configured, logs are rejected `not_configured`. */
  upload: LogUploader | undefined;
  sensors: MetricSource;
  /** Free bytes the self-test requires in the state dir's file system. */
  minFreeBytes: number;
  /** Called after the reboot command succeeded: the daemon stops. */
  onReboot: () => void;
  maxLogBundleBytes?: number;
}

export function linuxDeviceActions(options: LinuxActionsOptions): DeviceActions {
  const { clock, runner } = options;

  async function runArgv(argv: readonly string[], what: string): Promise<void> {
    const [file, ...args] = argv as [string, ...string[]];
    const result = await runner.run(file, args);
    if (result.code !== 0) throw new Error(`${what} command exited with ${result.code}: ${result.stderr}`);
  }

  return {
    operations: () => [...jobOperations],
    commands: () => options.commands.map(({ name, description }) => ({ name, description })),
    async reboot() {
      if (!options.rebootCommand) {
        throw new ActionRejectedError('not_configured', 'no jobs.rebootCommand in the agent config');
      }
      await runArgv(options.rebootCommand, 'reboot');
      options.onReboot();
    },
    async factoryReset({ wipeIdentity }) {
      const { removed, kept } = await wipeStateDir(options.stateDir, { wipeIdentity });
      return { ok: true, result: { removed, kept, identityKept: !wipeIdentity } };
    },
    async recovery(params) {
      if (!options.recoveryCommand) {
        throw new ActionRejectedError('not_configured', 'no jobs.recoveryCommand in the agent config');
      }
      const flag = { requestedAtMs: clock.now(), ...(params['reason'] ? { reason: params['reason'] } : {}) };
      await writeFile(join(options.stateDir, RECOVERY_FLAG_FILE), JSON.stringify(flag), { mode: 0o600 });
      await runArgv(options.recoveryCommand, 'recovery');
      return { ok: true, result: { recovery: true, ...flag } };
    },
    async logs(executionId, { maxLines }) {
      if (!options.upload) {
        throw new ActionRejectedError('not_configured', 'no device API URL to upload logs to');
      }
      const lines: string[] = [];
      const missing: string[] = [];
      for (const file of options.logFiles) {
        try {
          lines.push(...(await readFile(file, 'utf8')).split('\n').filter((line) => line !== ''));
        } catch {
          missing.push(file);
        }
      }
      lines.push(...options.ring.lines());
      const picked = maxLines !== undefined ? lines.slice(-maxLines) : lines;
      const bundle = await buildLogBundle(picked, options.maxLogBundleBytes ?? MAX_LOG_BUNDLE_BYTES);
      await options.upload(executionId, bundle.gzip);
      return {
        ok: true,
        result: {
          bytes: bundle.gzip.length,
          lines: bundle.lines,
          droppedLines: bundle.droppedLines,
          ...(missing.length > 0 ? { unreadableFiles: missing } : {}),
        },
      };
    },
    selfTest: ({ roundTripMs }) =>
      runSelfTest([
        stateDirWritableCheck(options.stateDir),
        clockSaneCheck(() => clock.now()),
        certificateCheck(options.certPem, () => clock.now()),
        brokerRoundTripCheck(roundTripMs),
        freeDiskCheck(options.stateDir, options.minFreeBytes),
      ]),
    sensors(names) {
      const values = options.sensors.read(names ?? Object.keys(healthMetrics), clock.now());
      return Promise.resolve({ ok: true, result: { atMs: clock.now(), values } });
    },
    command(name, params) {
      const command = options.commands.find((c) => c.name === name);
      if (!command) throw new ActionRejectedError('unsupported_command', `no command named ${name}`);
      return runCustomCommand(command, params);
    },
  };
}
