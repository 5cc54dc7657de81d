/** The agent as a long-running process: config file in, connected device out, until a signal. */
import { createAgent } from './agent.ts';
import { agentOptionsFromConfig, loadAgentConfig } from './config.ts';
import { waitForShutdown, type SignalSource } from './shutdown.ts';
import type { AgentDeps } from './types.ts';

export interface AgentDaemonDeps extends AgentDeps {
  /** Stops the daemon like SIGTERM would (tests, embedding). */
  shutdownSignal?: AbortSignal;
  /** Where SIGINT/SIGTERM come from; `process` by default. */
  signals?: SignalSource;
}

/**
 * Loads the config, starts the agent and resolves once it has stopped after SIGINT/SIGTERM
 * (or `shutdownSignal`). Config errors reject before anything connects.
 */
export async function runAgentDaemon(configPath: string, deps: AgentDaemonDeps): Promise<void> {
  const config = await loadAgentConfig(configPath);
  const agent = createAgent(deps, await agentOptionsFromConfig(config, configPath));
  deps.logger.info(
    { deviceId: config.deviceId, serverUrl: config.serverUrl, firmwareVersion: config.firmwareVersion },
    'agent starting',
  );
  agent.start();
  const shutdown: { signal?: AbortSignal; signals?: SignalSource } = {};
  if (deps.shutdownSignal) shutdown.signal = deps.shutdownSignal;
  if (deps.signals) shutdown.signals = deps.signals;
  const reason = await waitForShutdown(shutdown);
  deps.logger.info({ deviceId: config.deviceId, reason }, 'agent stopping');
  await agent.stop();
}
