/**
 * The device agent: one MQTT 3.1.1 connection over TLS with a client certificate. It reports
 * its state on every connect and on change, sends heartbeats while connected, listens for
 * `rejected`, reconnects by itself with jittered exponential backoff, and (with `renewal`)
 * renews its certificate before it expires, switching sessions without going offline.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { deviceTopic } from '../contracts/topics.ts';
import { nextDelayMs, type BackoffPolicy } from './backoff.ts';
import { buildConnectOptions } from './connect-options.ts';
import {
  parseConfigDesired,
  parseJobNotify,
  parseRejected,
  parseTelemetryAck,
  parseUpdateNotify,
} from './inbound.ts';
import { closeClient } from './mqtt-close.ts';
import { createRenewal, type Renewal } from './renewal.ts';
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

function parseJsonOrUndefined(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function createAgent(deps: AgentDeps, options: AgentOptions): Agent {
  const { clock, timers, logger } = deps;
  const { deviceId } = options;
  let heartbeatMs = (options.heartbeatIntervalS ?? AGENT_DEFAULTS.heartbeatIntervalS) * 1000;
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
    updateNotify: deviceTopic(deviceId, 'update/notify'),
    updateStatus: deviceTopic(deviceId, 'update/status'),
    telemetry: deviceTopic(deviceId, 'telemetry'),
    telemetryAck: deviceTopic(deviceId, 'telemetry/ack'),
    jobsNotify: deviceTopic(deviceId, 'jobs/notify'),
    jobsStatus: deviceTopic(deviceId, 'jobs/status'),
    configDesired: deviceTopic(deviceId, 'config/desired'),
    configReported: deviceTopic(deviceId, 'config/reported'),
  };

  let state: DeviceState = validateState(initialState(options));
  let lastSeq: number | undefined;
  let startedMs = clock.now();
  let running = false;
  let client: MqttClient | undefined;
  let connected = false;
  /** The session `client` is replacing after a renewal; it counts as connected meanwhile. */
  let replacing: MqttClient | undefined;
  let attempt = 0;
  let reconnectTimer: unknown;
  let heartbeatTimer: unknown;
  let renewalTimer: unknown;
  /** The TLS material in use; a renewal replaces the certificate and key. */
  let tls = { ...options.tls };
  let secureContext: SecureContext | undefined;

  const renewal: Renewal | undefined = options.renewal
    ? createRenewal(deps, options.renewal, {
        deviceId,
        certPem: () => tls.certPem,
        ready: () => connected && replacing === undefined,
        publish: publishReliably,
        switchTo: switchCredentials,
      })
    : undefined;

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

  /** QoS 1 on the live session; resolves on PUBACK. */
  async function publishReliably(topic: string, payload: string): Promise<void> {
    if (!connected || !client) throw new Error('not connected');
    await client.publishAsync(topic, payload, { qos: 1 });
  }

  function stopHeartbeat(): void {
    if (heartbeatTimer !== undefined) timers.clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
  }

  function onConnect(c: MqttClient): void {
    const replaced = replacing;
    replacing = undefined;
    connected = true;
    attempt = 0;
    // Subscribe first so a rejection of the report below, or a renewal answer, cannot be missed.
    const subscriptions = [
      topics.rejected,
      ...(renewal ? [renewal.issuedTopic] : []),
      ...(options.onUpdateNotify ? [topics.updateNotify] : []),
      ...(options.onTelemetryAck ? [topics.telemetryAck] : []),
      ...(options.jobs ? [topics.jobsNotify] : []),
      ...(options.onConfigDesired ? [topics.configDesired] : []),
    ];
    c.subscribe(subscriptions, { qos: 1 }, (err) => {
      if (err) logger.warn({ deviceId, err: err.message }, 'subscribe failed');
      publishState();
      renewal?.check();
      if (client === c) options.jobs?.onConnected();
    });
    stopHeartbeat();
    heartbeatTimer = timers.setInterval(publishHeartbeat, heartbeatMs);
    if (replaced) {
      // The broker closed the old session when this one took over its client id
      // [MQTT-3.1.4-2]; this lets go of it on our side. Not a disconnect: the device stayed online.
      void closeClient(replaced, false, timers);
      logger.info({ deviceId }, 'switched to the renewed certificate');
      return;
    }
    logger.info({ deviceId }, 'connected');
    options.onConnected?.();
  }

  function onMessage(topic: string, payload: Buffer): void {
    if (renewal && topic === renewal.issuedTopic) return renewal.handleIssued(payload);
    if (topic === topics.updateNotify && options.onUpdateNotify) {
      const notify = parseUpdateNotify(payload);
      if (!notify.ok) {
        logger.warn({ deviceId, topic, reason: notify.reason }, 'ignoring invalid message from server');
        return;
      }
      options.onUpdateNotify(notify.value);
      return;
    }
    if (topic === topics.telemetryAck && options.onTelemetryAck) {
      const ack = parseTelemetryAck(payload);
      if (!ack.ok) {
        logger.warn({ deviceId, topic, reason: ack.reason }, 'ignoring invalid message from server');
        return;
      }
      options.onTelemetryAck(ack.value);
      return;
    }
    if (topic === topics.jobsNotify && options.jobs) {
      const notify = parseJobNotify(payload);
      if (!notify.ok) {
        logger.warn({ deviceId, topic, reason: notify.reason }, 'ignoring invalid message from server');
        // The runner answers one that names an execution, so the server need not wait for a timeout.
        options.jobs.onInvalidNotify?.(parseJsonOrUndefined(payload), notify.reason);
        return;
      }
      options.jobs.onNotify(notify.value);
      return;
    }
    if (topic === topics.configDesired && options.onConfigDesired) {
      const desired = parseConfigDesired(payload);
      if (!desired.ok) {
        logger.warn({ deviceId, topic, reason: desired.reason }, 'ignoring invalid message from server');
        return;
      }
      options.onConfigDesired(desired.value);
      return;
    }
    if (topic !== topics.rejected) return;
    const parsed = parseRejected(payload);
    if (!parsed.ok) {
      logger.warn({ deviceId, topic, reason: parsed.reason }, 'ignoring invalid message from server');
      return;
    }
    logger.warn({ deviceId, rejected: parsed.value }, 'server rejected a message');
    options.onRejected?.(parsed.value);
  }

  function onClose(c: MqttClient, error: Error | undefined): void {
    if (client !== c) return; // stop(), an earlier close or a session switch already let go of it
    client = undefined;
    // A session that failed while replacing a live one still ends the device's connection.
    const wasConnected = connected;
    connected = false;
    stopHeartbeat();
    void closeClient(c, true, timers);
    if (replacing) void closeClient(replacing, true, timers);
    replacing = undefined;
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
      cert: tls.certPem,
      key: tls.keyPem,
      secureContext,
    };
    const c = mqtt.connect(attemptOptions);
    client = c;
    let lastError: Error | undefined;
    // Handlers check `client === c`: once stop() or a close has let go of a client, its late
    // events must not touch the agent.
    c.on('connect', () => {
      if (client === c) onConnect(c);
    });
    c.on('message', (topic, payload) => {
      if (client === c) onMessage(topic, payload);
    });
    // Without an 'error' listener an EventEmitter throws; the close handler reports the error.
    c.on('error', (err) => {
      lastError = err;
      logger.debug({ deviceId, err: err.message }, 'connection error');
    });
    c.on('close', () => onClose(c, lastError));
  }

  /**
   * Uses a renewed certificate from now on. While connected, a new session is opened at once and
   * replaces the old one (make before break); otherwise the next attempt uses it.
   */
  function switchCredentials(pair: { certPem: string; keyPem: string }): void {
    // Throws on a key that does not fit the certificate, before anything is replaced.
    secureContext = createSecureContext({ ca: tls.caPem, cert: pair.certPem, key: pair.keyPem });
    tls = { ...tls, ...pair };
    if (!running || !connected || !client || replacing) return;
    replacing = client;
    connect();
  }

  function stopRenewal(): void {
    if (renewalTimer !== undefined) timers.clearInterval(renewalTimer);
    renewalTimer = undefined;
    renewal?.stop();
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
      secureContext ??= createSecureContext({ ca: tls.caPem, cert: tls.certPem, key: tls.keyPem });
      running = true;
      startedMs = clock.now();
      attempt = 0;
      if (renewal) {
        renewal.start();
        renewalTimer = timers.setInterval(() => renewal.check(), renewal.checkIntervalMs);
      }
      connect();
    },
    async stop() {
      running = false;
      if (reconnectTimer !== undefined) timers.clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      stopHeartbeat();
      stopRenewal();
      const c = client;
      const old = replacing;
      const wasConnected = connected;
      client = undefined;
      replacing = undefined;
      connected = false;
      if (old) void closeClient(old, true, timers);
      if (!c) return;
      // A clean DISCONNECT tells the broker the device left on purpose (no will, no timeout).
      await closeClient(c, !wasConnected || old !== undefined, timers);
      logger.info({ deviceId }, 'stopped');
      if (wasConnected) options.onDisconnected?.({ wasConnected });
    },
    isConnected: () => connected,
    state: () => structuredClone(state),
    setFirmwareVersion: (version) => updateState({ firmwareVersion: version }),
    updateState,
    publishUpdateStatus: (status) => publishReliably(topics.updateStatus, JSON.stringify(status)),
    publishTelemetry: (batch) => publishReliably(topics.telemetry, JSON.stringify(batch)),
    publishJobStatus: (status) => publishReliably(topics.jobsStatus, JSON.stringify(status)),
    publishConfigReported: (report) => publishReliably(topics.configReported, JSON.stringify(report)),
    setHeartbeatIntervalS(seconds) {
      heartbeatMs = seconds * 1000;
      if (heartbeatTimer === undefined) return;
      stopHeartbeat();
      heartbeatTimer = timers.setInterval(publishHeartbeat, heartbeatMs);
    },
  };
}
