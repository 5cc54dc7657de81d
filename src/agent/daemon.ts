/**
 * The agent as a long-running process: config file in, connected device out, until a signal.
 * A device without an identity provisions itself first (daemon-identity.ts); with a state dir the
 * agent renews its certificate and stores each new one there.
 */
import { createAgent } from './agent.ts';
import { agentOptionsFor, configPath, loadAgentConfig, type AgentConfig } from './config.ts';
import { resolveDaemonIdentity } from './daemon-identity.ts';
import { saveIdentity } from './identity-store.ts';
import { waitForShutdown, type SignalSource } from './shutdown.ts';
import type { AgentDeps, RenewalOptions } from './types.ts';

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
export async function runAgentDaemon(configFile: string, deps: AgentDaemonDeps): Promise<void> {
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
    const options = agentOptionsFor(config, identity);
    const renewal = renewalOptions(config, configFile);
    if (renewal) options.renewal = renewal;
    const agent = createAgent(deps, options);
    logger.info(
      {
        deviceId: identity.deviceId,
        serverUrl: identity.serverUrl,
        identity: identity.source,
        renewal: renewal !== undefined,
        firmwareVersion: config.firmwareVersion,
      },
      'agent starting',
    );
    agent.start();
    const reason = await shutdown;
    logger.info({ deviceId: identity.deviceId, reason }, 'agent stopping');
    await agent.stop();
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
