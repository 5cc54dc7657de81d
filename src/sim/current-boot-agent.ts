/**
 * The `Agent` face of a simulated device that reboots (telemetry, updates, remote config): a new
 * agent per boot, so start/stop are the device's own (power) and everything else goes to the agent
 * of the current boot. Between two boots there is none: reads and setters throw, publishes reject —
 * the caller keeps what it could not send, as after a lost connection.
 */
import type { Agent } from '../agent/types.ts';

export function currentBootAgent(
  deviceId: string,
  current: () => Agent | undefined,
  power: Pick<Agent, 'start' | 'stop'>,
): Agent {
  const live = (): Agent => {
    const agent = current();
    if (!agent) throw new Error(`simulated device ${deviceId} is not running`);
    return agent;
  };
  const publish = (send: (agent: Agent) => Promise<void>): Promise<void> => {
    try {
      return send(live());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    deviceId,
    start: () => power.start(),
    stop: () => power.stop(),
    isConnected: () => current()?.isConnected() ?? false,
    state: () => live().state(),
    setFirmwareVersion: (version) => live().setFirmwareVersion(version),
    updateState: (partial) => live().updateState(partial),
    setHeartbeatIntervalS: (seconds) => live().setHeartbeatIntervalS(seconds),
    publishUpdateStatus: (status) => publish((agent) => agent.publishUpdateStatus(status)),
    publishTelemetry: (batch) => publish((agent) => agent.publishTelemetry(batch)),
    publishJobStatus: (status) => publish((agent) => agent.publishJobStatus(status)),
    publishConfigReported: (report) => publish((agent) => agent.publishConfigReported(report)),
  };
}

/**
 * Power for a device whose boot is asynchronous: `start` queues a boot (once while powered), `stop`
 * waits for a boot in progress and then shuts the running parts down.
 */
export function bootPower(
  deviceId: string,
  logger: { error(obj: Record<string, unknown>, msg: string): void },
  boot: () => Promise<void>,
  shutdown: () => Promise<void>,
): Pick<Agent, 'start' | 'stop'> {
  let powered = false;
  let booting: Promise<void> = Promise.resolve();
  return {
    start() {
      if (powered) return;
      powered = true;
      booting = booting.then(boot).catch((err: unknown) => {
        logger.error({ deviceId, err: (err as Error).message }, 'boot failed');
      });
    },
    async stop() {
      powered = false;
      await booting;
      await shutdown();
    },
  };
}
