/**
 * The agent as a long-running process: config file in, connected device out, until a signal.
 * A device without an identity provisions itself first (daemon-identity.ts); with a state dir the
 * agent renews its certificate and stores each new one there.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAgent } from './agent.ts';
import { agentOptionsFor, configPath, loadAgentConfig, type AgentConfig } from './config.ts';
import { resolveDaemonIdentity } from './daemon-identity.ts';
import { saveIdentity } from './identity-store.ts';
import { waitForShutdown, type SignalSource } from './shutdown.ts';
import type { AgentDeps, AgentOptions, RenewalOptions } from './types.ts';
import { createUpdatingAgent, type UpdatingAgentInput } from './update-wiring.ts';
import type { AgentUpdateConfig } from './config.ts';
import { createFileBootControl } from './update/boot-file-env.ts';
import { createGrubBootControl } from './update/boot-grub.ts';
import { createUbootBootControl } from './update/boot-uboot.ts';
import type { BootControl } from './update/boot-control.ts';
import { commandCheck } from './update/health.ts';
import { execCommandRunner } from './update/command-runner.ts';
import { nodeDisk } from './update/disk.ts';
import { ConfigError } from '../infra/errors.ts';
import { createDaemonTelemetry } from './telemetry/daemon-telemetry.ts';
import { createDaemonJobs } from './jobs/daemon-jobs.ts';
import { openDaemonConfigSync } from './config-sync/daemon-config.ts';

export interface AgentDaemonDeps extends AgentDeps {
  /** Stops the daemon like SIGTERM would (tests, embedding). */
  shutdownSignal?: AbortSignal;
  /** Where SIGINT/SIGTERM come from; `process` by default. */
  signals?: SignalSource;
}

/**
 * Loads the config, gets an identity, starts the agent and resolves once it has stopped after
 * SIGINT/SIGTERM (or `shutdownSignal`). Config errors and a refused provisioning
 * (ProvisioningRefusedError) reject before anything connects with a device certificate.
 */
export async function runAgentDaemon(configFile: string, daemonDeps: AgentDaemonDeps): Promise<void> {
  let deps = daemonDeps;
  const { logger } = deps;
  const config = await loadAgentConfig(configFile);
  // Lets go of the signal listeners when start-up fails.
  const finished = new AbortController();
  const stopping = new AbortController();
  const signals = [finished.signal, ...(deps.shutdownSignal ? [deps.shutdownSignal] : [])];
  const shutdown = waitForShutdown({
    signal: AbortSignal.any(signals),
    ...(deps.signals ? { signals: deps.signals } : {}),
  }).then((reason) => {
    stopping.abort();
    return reason;
  });
  try {
    let identity;
    try {
      identity = await resolveDaemonIdentity(config, configFile, { ...deps, signal: stopping.signal });
    } catch (error) {
      if (!stopping.signal.aborted) throw error;
      logger.info({ serial: config.serial }, 'agent stopped before it had an identity');
      return;
    }
    const renewal = renewalOptions(config, configFile);
    // Remote configuration (with a stateDir): restart keys saved last run take effect now — the
    // log level on the daemon's own logger, before jobs wraps it.
    const configSync = await openDaemonConfigSync(deps, config, configFile);
    const rebooted = new AbortController();
    // Before the agent and telemetry: their log lines go into the ring a `logs` job bundles.
    const jobs = await createDaemonJobs(
      deps,
      config,
      configFile,
      () => identity.tls,
      () => rebooted.abort(),
    );
    if (jobs) deps = { ...deps, logger: jobs.deps.logger };
    const telemetry = config.telemetry
      ? await createDaemonTelemetry(
          deps,
          config,
          config.telemetry,
          configFile,
          identity.tls,
          configSync?.telemetrySettings(),
        )
      : undefined;
    const base = agentOptionsFor(config, identity);
    if (renewal) base.renewal = renewal;
    const withJobs = jobs ? jobs.agentOptions(base) : base;
    const plain = configSync ? configSync.agentOptions(withJobs) : withJobs;
    const options = telemetry ? telemetry.agentOptions(plain) : plain;
    const device = config.update
      ? await createUpdatingAgent(
          deps,
          await updateWiring(config, config.update, configFile, options, () => rebooted.abort()),
        )
      : undefined;
    const agent = device?.agent ?? createAgent(deps, options);
    logger.info(
      {
        deviceId: identity.deviceId,
        serverUrl: identity.serverUrl,
        identity: identity.source,
        renewal: renewal !== undefined,
        firmwareVersion: agent.state().firmwareVersion,
        updates: config.update !== undefined,
        telemetry: config.telemetry?.transport ?? false,
        jobs: jobs !== undefined,
      },
      'agent starting',
    );
    jobs?.attach(agent);
    telemetry?.attach(agent);
    configSync?.attach(agent, telemetry);
    telemetry?.start();
    if (device) device.start();
    else agent.start();
    // After asking for a reboot the agent has nothing more to do: it stops and the device restarts.
    const reason = await Promise.race([
      shutdown,
      new Promise<string>((resolve) =>
        rebooted.signal.addEventListener('abort', () => resolve('reboot'), { once: true }),
      ),
    ]);
    logger.info({ deviceId: identity.deviceId, reason }, 'agent stopping');
    jobs?.runner.stop();
    // The open windows are queued on disk before the link goes: sent after the next start.
    await configSync?.stop();
    await telemetry?.stop();
    if (device) await device.stop();
    else await agent.stop();
  } finally {
    finished.abort();
  }
}

/** Renewal needs somewhere to keep the new certificate: on with a state dir, off without. */
function renewalOptions(config: AgentConfig, configFile: string): RenewalOptions | undefined {
  if (config.stateDir === undefined) return undefined;
  const stateDir = configPath(configFile, config.stateDir);
  return {
    atFraction: config.renewal.atFraction,
    checkIntervalMs: config.renewal.checkIntervalS * 1000,
    onRenewed: ({ certPem, keyPem }) => saveIdentity(stateDir, { certPem, keyPem }),
  };
}

/** The update section of the config, turned into the wiring of an updating agent. */
async function updateWiring(
  config: AgentConfig,
  update: AgentUpdateConfig,
  configFile: string,
  agent: AgentOptions,
  onReboot: () => void,
): Promise<UpdatingAgentInput> {
  const path = (p: string) => configPath(configFile, p);
  const baseDir = update.dir ?? (config.stateDir !== undefined ? join(config.stateDir, 'update') : undefined);
  if (baseDir === undefined) throw new ConfigError('update.dir: is required when there is no stateDir');
  const dir = path(baseDir);
  const tufDir = join(dir, 'tuf');
  await mkdir(tufDir, { recursive: true, mode: 0o700 });
  // The root shipped with the device is the start of the trust chain (TUF 5.2); tuf-js moves it forward.
  const rootFile = join(tufDir, 'root.json');
  if ((await nodeDisk.readFile(rootFile)) === undefined) {
    await nodeDisk.replaceFile(rootFile, await readFile(path(update.tufRootFile)));
  }
  const [rebootFile, ...rebootArgs] = update.rebootCommand as [string, ...string[]];
  const [healthFile, ...healthArgs] = update.health.command ?? [];
  return {
    agent,
    client: {
      deviceHttpUrl: update.deviceHttpUrl.replace(/\/$/, ''),
      stateDir: dir,
      tufMetadataDir: tufDir,
      slots: {
        paths: { a: path(update.slots.a), b: path(update.slots.b) },
        ...(update.slots.capacityBytes !== undefined ? { capacityBytes: update.slots.capacityBytes } : {}),
      },
      hardware: config.hardware,
      installed: {
        version: config.firmwareVersion,
        ...(update.installedLength !== undefined ? { length: update.installedLength } : {}),
      },
      healthRounds: update.health.rounds,
      healthRetryDelayMs: update.health.retryDelayS * 1000,
      ...(update.lockFile !== undefined ? { updateLock: path(update.lockFile) } : {}),
      ...(update.minisignPublicKeyFile !== undefined
        ? { minisignPublicKey: await readFile(path(update.minisignPublicKeyFile), 'utf8') }
        : {}),
    },
    clientDeps: {
      disk: nodeDisk,
      bootControl: bootControlFor(update, path),
      reboot: async () => {
        const result = await execCommandRunner.run(rebootFile, rebootArgs);
        if (result.code !== 0) throw new Error(`${rebootFile} exited with ${result.code}: ${result.stderr}`);
        onReboot();
      },
    },
    extraHealthChecks: healthFile
      ? [
          commandCheck(
            execCommandRunner,
            healthFile.includes('/') ? path(healthFile) : healthFile,
            healthArgs,
          ),
        ]
      : [],
    connectWithinMs: update.health.connectWithinS * 1000,
    push: update.push,
    pollIntervalS: update.pollIntervalS,
  };
}

function bootControlFor(update: AgentUpdateConfig, path: (p: string) => string): BootControl {
  const { boot } = update;
  switch (boot.kind) {
    case 'file':
      return createFileBootControl(nodeDisk, path(boot.envFile));
    case 'uboot':
      return createUbootBootControl({
        runner: execCommandRunner,
        disk: nodeDisk,
        scriptPath: boot.scriptFile,
      });
    case 'grub':
      return createGrubBootControl({ runner: execCommandRunner, envFile: boot.envFile });
  }
}
