/**
 * One agent with firmware updates: the MQTT agent, the update client and the link between them,
 * wired the same way for the daemon and for simulated devices. The agent reports the version of
 * the booted slot, offers from push and pull go to the client, the client's statuses go out on
 * `update/status`, and the post-boot health check can wait for the agent's connection.
 */
import type { UpdateNotify } from '../contracts/update-messages.ts';
import { createAgent } from './agent.ts';
import type { Agent, AgentDeps, AgentOptions } from './types.ts';
import { createUpdateLink, type UpdateLink } from './update-link.ts';
import { connectedCheck, processUpCheck, type HealthCheck } from './update/health.ts';
import { createHttpGet } from './update/transport.ts';
import { createUpdateClient } from './update/update-client.ts';
import type { UpdateClient, UpdateClientDeps, UpdateClientOptions } from './update/types.ts';

export interface UpdatingAgentInput {
  agent: AgentOptions;
  client: Omit<UpdateClientOptions, 'healthChecks' | 'tls'>;
  clientDeps: Pick<UpdateClientDeps, 'disk' | 'bootControl' | 'reboot'>;
  /** Checks besides "agent up" and "connected within connectWithinMs" (e.g. a custom command). */
  extraHealthChecks?: readonly HealthCheck[];
  connectWithinMs: number;
  /** Listen for `update/notify`; false = pull only. */
  push: boolean;
  pollIntervalS?: number;
  /**
   * How often a download parked by the update lock or a closed maintenance window re-checks, in
   * ms; default 60 s (so an install starts within a minute of the window opening).
   */
  lockCheckIntervalMs?: number;
}

export interface UpdatingAgent {
  agent: Agent;
  client: UpdateClient;
  link: UpdateLink;
  /** Starts the agent and the pulls, then concludes a trial boot or resumes a download. */
  start(): void;
  stop(): Promise<void>;
}

export async function createUpdatingAgent(
  deps: AgentDeps,
  input: UpdatingAgentInput,
): Promise<UpdatingAgent> {
  const { deviceId, tls } = input.agent;
  /** Set once created; the link and the client's callbacks only run after that. */
  const live: { agent?: Agent } = {};
  let running = false;
  const connectedWaiters = new Set<() => void>();

  function waitConnected(timeoutMs: number): Promise<boolean> {
    if (live.agent?.isConnected()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        connectedWaiters.delete(onConnect);
        deps.timers.clearTimeout(timer);
        resolve(ok);
      };
      const onConnect = () => done(true);
      const timer = deps.timers.setTimeout(() => done(false), timeoutMs);
      connectedWaiters.add(onConnect);
    });
  }

  const link = createUpdateLink(
    {
      timers: deps.timers,
      random: deps.random,
      logger: deps.logger,
      httpGet: createHttpGet(tls),
      publish: (status) =>
        live.agent ? live.agent.publishUpdateStatus(status) : Promise.reject(new Error('agent not started')),
      isConnected: () => live.agent?.isConnected() ?? false,
    },
    {
      deviceId,
      deviceHttpUrl: input.client.deviceHttpUrl,
      ...(input.pollIntervalS !== undefined ? { pollIntervalS: input.pollIntervalS } : {}),
    },
  );
  const client = createUpdateClient(
    {
      ...input.clientDeps,
      clock: deps.clock,
      timers: deps.timers,
      logger: deps.logger,
      report: (status) => {
        // The registry learns the new version (state/reported) before the success it explains.
        if (status.state === 'success') live.agent?.setFirmwareVersion(status.version);
        link.report(status);
      },
    },
    {
      ...input.client,
      tls,
      healthChecks: [
        processUpCheck(() => running),
        connectedCheck(waitConnected, input.connectWithinMs),
        ...(input.extraHealthChecks ?? []),
      ],
    },
  );
  link.attach(client);
  const created = createAgent(deps, {
    ...input.agent,
    firmwareVersion: await client.bootedVersion(),
    ...(input.push ? { onUpdateNotify: (notify: UpdateNotify) => link.onNotify(notify) } : {}),
    onConnected: () => {
      link.onConnected();
      for (const waiter of [...connectedWaiters]) waiter();
      input.agent.onConnected?.();
    },
  });
  live.agent = created;
  let lockTimer: unknown;

  return {
    agent: created,
    client,
    link,
    start() {
      running = true;
      created.start();
      link.start();
      // An install deferred by the update lock or a maintenance window goes ahead soon after the
      // lock clears or the window opens.
      lockTimer = deps.timers.setInterval(() => {
        if (client.current()?.phase !== 'downloaded') return;
        client.resume().catch((err: unknown) => {
          deps.logger.warn({ deviceId, err: (err as Error).message }, 'deferred install failed');
        });
      }, input.lockCheckIntervalMs ?? 60_000);
      client.resumeAfterBoot().catch((err: unknown) => {
        deps.logger.warn({ deviceId, err: (err as Error).message }, 'update resume failed');
      });
    },
    async stop() {
      running = false;
      if (lockTimer !== undefined) deps.timers.clearInterval(lockTimer);
      link.stop();
      await created.stop();
    },
  };
}
