/**
 * One device's telemetry, put together: the collector (sampling and windows) feeds the outbox
 * (batches on disk), the sender drains it over MQTT or HTTPS. Wired the same way into the agent
 * daemon and simulated devices: `agentOptions()` adds the hooks the MQTT agent needs (acks,
 * connects, disconnects counted), `attach()` hands it the agent to publish with.
 */
import type { TelemetryBatch, TelemetryEvent } from '../../contracts/telemetry-messages.ts';
import type { AgentDeps, AgentOptions } from '../types.ts';
import type { BatchContent } from './batch-pack.ts';
import { createCollector, type MetricSource } from './collector.ts';
import { httpsTransport } from './https-transport.ts';
import { mqttTransport, type MqttTelemetryLink } from './mqtt-transport.ts';
import { openOutbox, type Outbox, type OutboxOptions } from './outbox.ts';
import { createSender, type Sender, type SenderOptions } from './sender.ts';
import type { TelemetrySettings } from './settings.ts';
import type { DeviceTls } from '../update/transport.ts';

export type TelemetryTransportOptions =
  { kind: 'mqtt' } | { kind: 'https'; deviceHttpUrl: string; tls: DeviceTls | undefined; timeoutMs?: number };

export interface DeviceTelemetryOptions {
  settings: TelemetrySettings;
  outbox: OutboxOptions;
  transport: TelemetryTransportOptions;
  sender?: SenderOptions;
  sources?: readonly MetricSource[];
  /**
   * The boot event queued at start (`code` e.g. `power_on`, `watchdog`, `update`); it also counts
   * one `reboots`, and one `crashes` when `crash` is set. Absent: no boot event.
   */
  boot?: { code: string; message?: string; crash?: boolean };
  /** Told of every batch once it is durably queued (a device-side record, e.g. for end-to-end checks). */
  onQueued?: (batch: TelemetryBatch) => void;
}

export interface ErrorReport {
  /** Machine-readable, `[A-Za-z0-9_.:-]{1,64}`, e.g. `E_SENSOR_TIMEOUT`. */
  code: string;
  message?: string;
  severity?: 'warning' | 'error' | 'critical';
}

export interface DeviceTelemetry {
  /** The agent options with telemetry's hooks added (the originals still run). */
  agentOptions(options: AgentOptions): AgentOptions;
  /** The agent to publish with (MQTT transport); call before start(). */
  attach(agent: MqttTelemetryLink): void;
  start(): void;
  /** Closes the open windows (partial), queues them durably and stops sending. */
  stop(): Promise<void>;
  /** An application (or health) metric sample at now; false when refused (bad name, a counter). */
  record(name: string, value: number): boolean;
  /** Occurrences of a counter (`errors`, `crashes`, or an application counter). */
  increment(name: string, by?: number): boolean;
  /** An error report: an `error` event sent at once, and one more `errors`. */
  reportError(report: ErrorReport): boolean;
  /** Queues an event (sent at once); false when it fails the schema (logged, not sent). */
  event(event: TelemetryEvent): boolean;
  /** New cadences at run time (the later remote-config issue calls this). */
  reconfigure(settings: TelemetrySettings): void;
  /** The cadences in use. */
  settings(): TelemetrySettings;
  readonly outbox: Outbox;
  readonly sender: Sender;
}

export async function createDeviceTelemetry(
  deps: AgentDeps,
  options: DeviceTelemetryOptions,
): Promise<DeviceTelemetry> {
  const { clock, logger } = deps;
  const outbox = await openOutbox(options.outbox, logger);
  let link: MqttTelemetryLink | undefined;
  const transport =
    options.transport.kind === 'mqtt'
      ? mqttTransport(() => link)
      : httpsTransport({
          deviceHttpUrl: options.transport.deviceHttpUrl,
          tls: options.transport.tls,
          ...(options.transport.timeoutMs !== undefined ? { timeoutMs: options.transport.timeoutMs } : {}),
        });
  // Over HTTPS one upload carries up to 100 batches: in flight = one upload, unless configured.
  const sender = createSender(deps, outbox, transport, {
    ...(options.transport.kind === 'https' ? { maxInFlight: transport.maxPerSend } : {}),
    ...options.sender,
  });
  let appends: Promise<unknown> = Promise.resolve();

  function sink(contents: BatchContent[]): void {
    for (const content of contents) {
      appends = appends
        .then(() => outbox.append(content))
        .then(
          (batch) => {
            options.onQueued?.(batch);
            sender.pump();
          },
          (err: unknown) => logger.error({ err: (err as Error).message }, 'telemetry batch not queued'),
        );
    }
  }

  const collector = createCollector({ ...deps, sink }, options.settings, options.sources ?? []);

  function event(e: TelemetryEvent): boolean {
    const ok = collector.event(e);
    if (!ok) logger.warn({ event: e }, 'telemetry event refused: it does not match the schema');
    return ok;
  }

  return {
    agentOptions(agent) {
      // Over HTTPS the MQTT session's ups and downs do not concern the uploads (only the count).
      const overMqtt = options.transport.kind === 'mqtt';
      return {
        ...agent,
        ...(overMqtt ? { onTelemetryAck: (ack) => sender.ack(ack) } : {}),
        onConnected: () => {
          if (overMqtt) sender.onConnected();
          agent.onConnected?.();
        },
        onDisconnected: (info) => {
          if (info.wasConnected) {
            collector.increment('disconnects');
            if (overMqtt) sender.onDisconnected();
          }
          agent.onDisconnected?.(info);
        },
      };
    },
    attach(agent) {
      link = agent;
    },
    start() {
      collector.start();
      if (options.boot) {
        const { code, message, crash } = options.boot;
        collector.increment('reboots');
        if (crash) collector.increment('crashes');
        event({
          type: 'boot',
          atMs: clock.now(),
          severity: crash ? 'warning' : 'info',
          code,
          ...(message !== undefined ? { message } : {}),
        });
      }
      sender.start();
    },
    async stop() {
      collector.stop();
      await appends;
      sender.stop();
    },
    record: (name, value) => collector.record(name, value),
    increment: (name, by) => collector.increment(name, by),
    reportError(report) {
      collector.increment('errors');
      return event({
        type: 'error',
        atMs: clock.now(),
        severity: report.severity ?? 'error',
        code: report.code,
        ...(report.message !== undefined ? { message: report.message.slice(0, 512) } : {}),
      });
    },
    event,
    reconfigure: (settings) => collector.reconfigure(settings),
    settings: () => collector.settings(),
    outbox,
    sender,
  };
}
