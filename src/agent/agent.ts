/**
 * The device agent: one MQTT 3.1.1 connection over TLS with a client certificate. It reports
 * its state on every connect and on change, sends heartbeats while connected, listens for
 * `rejected`, and reconnects by itself with jittered exponential backoff.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { deviceTopic } from '../contracts/topics.ts';
import { nextDelayMs, type BackoffPolicy } from './backoff.ts';
import { buildConnectOptions } from './connect-options.ts';
import { parseRejected } from './inbound.ts';
import {
  buildHeartbeat,
  buildStateReport,
  initialState,
  mergeState,
  nextSeq,
  uptimeSeconds,
  validateState,
} from './state.ts';
import { AGENT_DEFAULTS, type Agent, type AgentDeps, type AgentOptions, type DeviceState } from './types.ts';

/** How long stop() waits for a clean DISCONNECT before dropping the socket, in milliseconds. */
const STOP_GRACE_MS = 2000;

export function createAgent(deps: AgentDeps, options: AgentOptions): Agent {
  const { clock, timers, logger } = deps;
  const { deviceId } = options;
  const heartbeatMs = (options.heartbeatIntervalS ?? AGENT_DEFAULTS.heartbeatIntervalS) * 1000;
  const backoff: BackoffPolicy = {
    initialMs: options.backoff?.initialMs ?? AGENT_DEFAULTS.backoff.initialMs,
    maxMs: options.backoff?.maxMs ?? AGENT_DEFAULTS.backoff.maxMs,
    random: deps.random,
  };
  // Built once up front so a bad serverUrl fails in createAgent, not on the first attempt.
  const connectOptions = buildConnectOptions(options, options.keepaliveS ?? AGENT_DEFAULTS.keepaliveS);
  const topics = {
    state: deviceTopic(deviceId, 'state/reported'),
    heartbeat: deviceTopic(deviceId, 'heartbeat'),
    rejected: deviceTopic(deviceId, 'rejected'),
  };

  let state: DeviceState = validateState(initialState(options));
  let lastSeq: number | undefined;
  let startedMs = clock.now();
  let running = false;
  let client: MqttClient | undefined;
  let connected = false;
  let attempt = 0;
  let reconnectTimer: unknown;
  let heartbeatTimer: unknown;
  let secureContext: SecureContext | undefined;

  const uptimeS = () => uptimeSeconds(startedMs, clock.now());

  function publishState(): void {
    if (!connected || !client) return;
    const seq = nextSeq(lastSeq, clock.now());
    lastSeq = seq;
    const report = buildStateReport(state, seq, uptimeS());
    client.publish(topics.state, JSON.stringify(report), { qos: 1 }, (err) => {
      // Not retried here: every reconnect republishes the whole state anyway.
      if (err) logger.debug({ deviceId, err: err.message }, 'state/reported not acknowledged');
    });
  }

  function publishHeartbeat(): void {
    if (!connected || !client) return;
    client.publish(topics.heartbeat, JSON.stringify(buildHeartbeat(uptimeS())), { qos: 0 });
  }

  function stopHeartbeat(): void {
    if (heartbeatTimer !== undefined) timers.clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
  }

  function onConnect(c: MqttClient): void {
    connected = true;
    attempt = 0;
    logger.info({ deviceId }, 'connected');
    // Subscribe first so a rejection of the report below cannot be missed.
    c.subscribe(topics.rejected, { qos: 1 }, (err) => {
      if (err) logger.warn({ deviceId, err: err.message }, 'subscribe to rejected failed');
      publishState();
    });
    stopHeartbeat();
    heartbeatTimer = timers.setInterval(publishHeartbeat, heartbeatMs);
    options.onConnected?.();
  }

  function onMessage(topic: string, payload: Buffer): void {
    if (topic !== topics.rejected) return;
    const parsed = parseRejected(payload);
    if (!parsed.ok) {
      logger.warn({ deviceId, topic, reason: parsed.reason }, 'ignoring invalid message from server');
      return;
    }
    logger.warn({ deviceId, rejected: parsed.value }, 'server rejected a message');
    options.onRejected?.(parsed.value);
  }

  function onClose(c: MqttClient, wasConnected: boolean, error: Error | undefined): void {
    if (client !== c) return; // stop() or an earlier close already handled this client
    client = undefined;
    connected = false;
    stopHeartbeat();
    void discard(c, true);
    if (!running) return;
    const retryInMs = nextDelayMs(attempt, backoff);
    attempt += 1;
    logger.info({ deviceId, wasConnected, err: error?.message, retryInMs, attempt }, 'disconnected');
    reconnectTimer = timers.setTimeout(connect, retryInMs);
    options.onDisconnected?.({ wasConnected, retryInMs, ...(error ? { error } : {}) });
  }

  function connect(): void {
    reconnectTimer = undefined;
    if (!running) return;
    // A fresh client per attempt: with reconnectPeriod 0 an mqtt.js client is single-use, and
    // a fresh one carries no half-sent packets from the previous connection.
    // mqtt.js hands its options to tls.connect, which takes a ready-made secureContext.
    const attemptOptions: IClientOptions & { secureContext?: SecureContext } = {
      ...connectOptions,
      secureContext,
    };
    const c = mqtt.connect(attemptOptions);
    client = c;
    let wasConnected = false;
    let lastError: Error | undefined;
    // Handlers check `client === c`: once stop() or a close has let go of a client, its late
    // events must not touch the agent.
    c.on('connect', () => {
      if (client !== c) return;
      wasConnected = true;
      onConnect(c);
    });
    c.on('message', (topic, payload) => {
      if (client === c) onMessage(topic, payload);
    });
    // Without an 'error' listener an EventEmitter throws; the close handler reports the error.
    c.on('error', (err) => {
      lastError = err;
      logger.debug({ deviceId, err: err.message }, 'connection error');
    });
    c.on('close', () => onClose(c, wasConnected, lastError));
  }

  /** Ends a client; force drops the socket without a DISCONNECT packet. Never hangs. */
  async function discard(c: MqttClient, force: boolean): Promise<void> {
    let graceTimer: unknown;
    await Promise.race([
      c.endAsync(force).catch(() => undefined),
      new Promise<void>((resolve) => {
        graceTimer = timers.setTimeout(resolve, STOP_GRACE_MS);
      }),
    ]);
    timers.clearTimeout(graceTimer);
    // The broker did not let go in time (unacknowledged QoS 1, dead link): drop the socket.
    // end(true) would be a no-op here because an end() is already in progress.
    if (!c.disconnected) c.stream.destroy();
  }

  function updateState(partial: Partial<DeviceState>): void {
    const merged = mergeState(state, partial);
    if (!merged.changed) return;
    state = validateState(merged.state);
    publishState();
  }

  return {
    deviceId,
    start() {
      if (running) return;
      // Parsing the PEMs costs ~2 ms of CPU: done once per agent rather than per attempt, so a
      // broker restart under thousands of simulated devices does not pay it again. Here rather
      // than in createAgent so the simulator spreads the cost over its ramp; bad PEMs throw here.
      secureContext ??= createSecureContext({
        ca: options.tls.caPem,
        cert: options.tls.certPem,
        key: options.tls.keyPem,
      });
      running = true;
      startedMs = clock.now();
      attempt = 0;
      connect();
    },
    async stop() {
      running = false;
      if (reconnectTimer !== undefined) timers.clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      stopHeartbeat();
      const c = client;
      const wasConnected = connected;
      client = undefined;
      connected = false;
      if (!c) return;
      // A clean DISCONNECT tells the broker the device left on purpose (no will, no timeout).
      await discard(c, !wasConnected);
      logger.info({ deviceId }, 'stopped');
      if (wasConnected) options.onDisconnected?.({ wasConnected });
    },
    isConnected: () => connected,
    state: () => structuredClone(state),
    setFirmwareVersion: (version) => updateState({ firmwareVersion: version }),
    updateState,
  };
}
