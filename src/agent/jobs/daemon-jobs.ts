/**
 * The daemon's job runner: the `jobs` and `commands` config sections turned into a runner with
 * Linux device actions and a durable execution book in `<stateDir>/jobs`. Jobs are off without a
 * stateDir (nowhere to remember executions) or with `jobs.enabled: false`.
 */
import { join } from 'node:path';
import { configPath, type AgentConfig } from '../config.ts';
import { linuxHealthSource } from '../telemetry/linux-health.ts';
import type { Agent, AgentDeps, AgentOptions } from '../types.ts';
import { execCommandRunner } from '../update/command-runner.ts';
import { createExecutionBook, fileBookStorage } from './execution-book.ts';
import { JOBS_DIR } from './factory-reset.ts';
import { linuxDeviceActions } from './linux-actions.ts';
import { createLogRing, recordingLogger } from './log-ring.ts';
import { httpsLogUploader } from './log-upload.ts';
import { createJobRunner, type JobRunner } from './runner.ts';
import type { CustomCommand } from './custom-command.ts';

export interface DaemonJobs {
  /** The deps whose logger also records into the logs ring: give them to the agent. */
  deps: AgentDeps;
  runner: JobRunner;
  /** Adds the runner's hooks to the agent options. */
  agentOptions(options: AgentOptions): AgentOptions;
  attach(agent: Agent): void;
}

export async function createDaemonJobs(
  deps: AgentDeps,
  config: AgentConfig,
  configFile: string,
  tls: () => AgentOptions['tls'],
  onReboot: () => void,
): Promise<DaemonJobs | undefined> {
  if (config.stateDir === undefined || !config.jobs.enabled) return undefined;
  const path = (p: string) => configPath(configFile, p);
  const stateDir = path(config.stateDir);
  const ring = createLogRing(Math.max(1, config.jobs.logRingLines));
  const recording: AgentDeps = {
    ...deps,
    logger: recordingLogger(deps.logger, ring, () => deps.clock.now()),
  };
  const deviceHttpUrl =
    config.jobs.deviceHttpUrl ?? config.update?.deviceHttpUrl ?? config.telemetry?.deviceHttpUrl;
  const commands = config.commands.map((c): CustomCommand => ({
    name: c.name,
    argv: c.argv.map((part, i) => (i === 0 && part.includes('/') ? path(part) : part)) as [
      string,
      ...string[],
    ],
    timeoutS: c.timeoutS,
    ...(c.description !== undefined ? { description: c.description } : {}),
  }));
  const actions = linuxDeviceActions({
    clock: deps.clock,
    runner: execCommandRunner,
    stateDir,
    certPem: () => tls().certPem,
    commands,
    ...(config.jobs.rebootCommand ? { rebootCommand: config.jobs.rebootCommand } : {}),
    ...(config.jobs.recoveryCommand ? { recoveryCommand: config.jobs.recoveryCommand } : {}),
    logFiles: config.jobs.logFiles.map(path),
    ring,
    upload: deviceHttpUrl
      ? (executionId, bundle) => httpsLogUploader({ deviceHttpUrl, tls: tls() })(executionId, bundle)
      : undefined,
    sensors: linuxHealthSource({ dataDir: stateDir }),
    minFreeBytes: config.jobs.minFreeBytes,
    onReboot,
  });
  const runner = createJobRunner({
    clock: deps.clock,
    logger: recording.logger,
    actions,
    book: createExecutionBook(fileBookStorage(join(stateDir, JOBS_DIR))),
  });
  // Settles a reboot asked for before this start: reported succeeded once connected.
  await runner.start();
  return {
    deps: recording,
    runner,
    agentOptions: (options) => ({
      ...options,
      jobs: {
        onNotify: (n) => runner.onNotify(n),
        onConnected: () => runner.onConnected(),
        onInvalidNotify: (json, reason) => runner.onInvalidNotify(json, reason),
      },
    }),
    attach(agent) {
      runner.attach({ publish: (s) => agent.publishJobStatus(s), isConnected: () => agent.isConnected() });
    },
  };
}
