/** The agent's dependencies, options and public handle. */
import type { Clock } from '../infra/clock.ts';
import type { Timers } from '../infra/timers.ts';

export type { Timers } from '../infra/timers.ts';
import type { Rejected, StateReported } from '../contracts/device-messages.ts';
import type { UpdateNotify, UpdateStatus } from '../contracts/update-messages.ts';
import type { TelemetryAck, TelemetryBatch } from '../contracts/telemetry-messages.ts';
import type { JobNotify, JobStatus } from '../contracts/job-messages.ts';
import type { ConfigDesired, ConfigReported } from '../contracts/config-messages.ts';

type LogMethod = (obj: Record<string, unknown>, msg: string) => void;

/** The subset of a pino logger the agent uses. */
export interface AgentLogger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

export interface AgentDeps {
  clock: Clock;
  timers: Timers;
  /** Uniform in [0, 1); feeds the reconnect jitter. */
  random: () => number;
  logger: AgentLogger;
}

/** The fields of state/reported the agent owns; seq and uptimeS are computed per report. */
export type DeviceState = Omit<StateReported, 'seq' | 'uptimeS'>;

export interface DisconnectInfo {
  /** False when the connection attempt failed before CONNACK. */
  wasConnected: boolean;
  /** The last error mqtt.js reported for this connection (TLS, refused, …), if any. */
  error?: Error;
  /** When the next attempt starts; undefined after stop(). */
  retryInMs?: number;
}

export interface AgentOptions {
  deviceId: string;
  /** `mqtts://host:port`; port 8883 when omitted. */
  serverUrl: string;
  /** PEM texts: the CA that signed the server certificate, and this device's certificate and key. */
  tls: { caPem: string; certPem: string; keyPem: string };
  identity: { serial: string; hardware: { model: string; revision: string } };
  firmwareVersion: string;
  region?: string;
  tags?: Record<string, string>;
  /** Seconds between heartbeats while connected; default 60. */
  heartbeatIntervalS?: number;
  /** MQTT keepalive in seconds; default 60. */
  keepaliveS?: number;
  /** Reconnect backoff; defaults initialMs 1000, maxMs 60000. */
  backoff?: { initialMs?: number; maxMs?: number };
  onConnected?: () => void;
  onDisconnected?: (info: DisconnectInfo) => void;
  /** A schema-valid message from `fl/d/{id}/rejected`. */
  onRejected?: (rejected: Rejected) => void;
  /** Renews the certificate over this connection before it expires; off when absent. */
  renewal?: RenewalOptions;
  /**
   * A schema-valid `fl/d/{id}/update/notify` (push delivery of an update offer; retained, so it
   * also arrives on every connect). Without it the agent does not subscribe to the topic.
   */
  onUpdateNotify?: (notify: UpdateNotify) => void;
  /**
   * A schema-valid `fl/d/{id}/telemetry/ack` (telemetry sent over MQTT). Without it the agent
   * does not subscribe to the topic.
   */
  onTelemetryAck?: (ack: TelemetryAck) => void;
  /**
   * Remote jobs (src/agent/jobs/): schema-valid `fl/d/{id}/jobs/notify` messages go to `onNotify`;
   * `onConnected` runs once the subscriptions are in place on each connection (capabilities are
   * sent then). Without it the agent does not subscribe to the topic.
   */
  jobs?: {
    onNotify: (notify: JobNotify) => void;
    onConnected: () => void;
    /** A `jobs/notify` that failed the schema: the JSON (if it parsed) and the reason. */
    onInvalidNotify?: (json: unknown, reason: string) => void;
  };
  /**
   * A schema-valid `fl/d/{id}/config/desired` (retained, so it also arrives on every connect;
   * config-sync/ validates the values against the device's schema). Without it the agent does
   * not subscribe to the topic.
   */
  onConfigDesired?: (desired: ConfigDesired) => void;
}

export interface RenewalOptions {
  /** Renew once this fraction of the certificate's lifetime (notBefore → notAfter) has passed; default 2/3. */
  atFraction?: number;
  /** How often the certificate is checked, and the least time between two attempts, in ms; default 1 h. */
  checkIntervalMs?: number;
  /** How long to wait for `certificate/issued`, in ms; default 30 s. */
  responseTimeoutMs?: number;
  /** Makes the new key and CSR for `serial`; default a fresh P-256 key on the device (csr.ts). */
  csr?: (serial: string) => Promise<{ csrPem: string; keyPem: string }>;
  /**
   * Stores the new pair (the daemon writes its state dir). Awaited before the agent switches to
   * the new certificate; when it throws, the agent keeps the old one and tries again later.
   */
  onRenewed?: (renewed: RenewedCertificate) => Promise<void> | void;
}

export interface RenewedCertificate {
  /** Device certificate followed by the issuing CA. */
  certPem: string;
  keyPem: string;
  /** ISO 8601. */
  notAfter: string;
}

export interface Agent {
  readonly deviceId: string;
  /**
   * Starts connecting; reconnects by itself until stop(). Calling it twice is a no-op.
   * Throws when the TLS material cannot be parsed (bad PEM), since retrying would not help.
   */
  start(): void;
  /** Disconnects cleanly (MQTT DISCONNECT) and clears every timer. */
  stop(): Promise<void>;
  isConnected(): boolean;
  /** The state the next state/reported will carry (without seq and uptimeS). */
  state(): DeviceState;
  setFirmwareVersion(version: string): void;
  /** Merges `partial` into the state and republishes when something changed. */
  updateState(partial: Partial<DeviceState>): void;
  /** Publishes `update/status` at QoS 1; resolves on PUBACK, rejects when not connected. */
  publishUpdateStatus(status: UpdateStatus): Promise<void>;
  /** Publishes a telemetry batch at QoS 1; resolves on PUBACK, rejects when not connected. */
  publishTelemetry(batch: TelemetryBatch): Promise<void>;
  /** Publishes `jobs/status` at QoS 1; resolves on PUBACK, rejects when not connected. */
  publishJobStatus(status: JobStatus): Promise<void>;
  /** Publishes `config/reported` at QoS 1; resolves on PUBACK, rejects when not connected. */
  publishConfigReported(report: ConfigReported): Promise<void>;
  /** A new heartbeat period from now on (remote configuration, a live key). */
  setHeartbeatIntervalS(seconds: number): void;
}

export const AGENT_DEFAULTS = {
  heartbeatIntervalS: 60,
  keepaliveS: 60,
  backoff: { initialMs: 1000, maxMs: 60_000 },
  renewal: { atFraction: 2 / 3, checkIntervalMs: 60 * 60 * 1000, responseTimeoutMs: 30_000 },
} as const;
