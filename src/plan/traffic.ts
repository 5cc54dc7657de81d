/**
 * Per-device resource use: messages, bytes on the wire and stored rows per day, computed from the
 * telemetry cadences and the message sizes the bench measured (`bytesPerDevicePerDay.aggregated`:
 * payload bytes per data point, framing and acknowledgement bytes per message). Pure.
 */
import { healthMetricNames } from '../contracts/telemetry-messages.ts';
import { metricSettings, type TelemetrySettings } from '../agent/telemetry/settings.ts';
import type { BenchmarkFigures } from './benchmarks.ts';
import type { PlanInput } from './input-schema.ts';
import type { TelemetryPlan } from './telemetry-plan.ts';

const DAY_MS = 86_400_000;
export const DAYS_PER_MONTH = 30.4;
const MIB = 1024 * 1024;

/**
 * Estimates (not measured; docs/plan.md, "Estimates"): a heartbeat's JSON payload
 * (`{"uptimeS":N}`, QoS 0, no PUBACK); one stored window row with its indexes; an HTTPS upload's overhead (TLS 1.3 resumption both
 * ways, request and response headers) and its gzip ratio; an MQTT keepalive round trip (PINGREQ/PINGRESP in TLS records).
 */
export const ESTIMATES = {
  heartbeatPayloadBytes: 20,
  storedRowBytes: 110,
  httpsUploadOverheadUpBytes: 900,
  httpsUploadOverheadDownBytes: 700,
  keepaliveBytes: 2 * (2 + 22),
  /** HTTPS uploads are gzip-compressed JSON (docs/telemetry-agent.md); compressed / plain size. */
  httpsGzipRatio: 0.3,
  /** The agent pulls update offers every 6 h (update.pollIntervalS). */
  offerPollsPerDay: 4,
} as const;

export interface DeviceTraffic {
  pointsPerDay: number;
  /** Telemetry messages (batches or uploads) per day. */
  telemetryMessagesPerDay: number;
  /** Heartbeats and other non-telemetry messages per day. */
  otherMessagesPerDay: number;
  /** Average JSON payload of one telemetry message, in bytes. */
  telemetryMessageBytes: number;
  upstreamBytesPerDay: number;
  downstreamBytesPerDay: number;
  /** Of the upstream bytes, those of heartbeats (MQTT only). */
  heartbeatBytesPerDay: number;
  /** Firmware bytes downloaded per month (deltas or full images). */
  otaBytesPerMonth: number;
  /** Window rows written per day, and stored at steady state (raw, hourly and daily rollups). */
  storedRowsPerDay: number;
  storedBytes: number;
  /** Minutes connected per month (a persistent session; 0 for HTTPS uploads). */
  connectedMinutesPerMonth: number;
  /** Everything on the link per month, in bytes (telemetry, heartbeats, firmware). */
  bytesPerMonth: number;
  /** What the carrier bills per month, in USD. */
  dataCostPerMonth: number;
}

interface MetricCadence {
  kind: 'health' | 'app';
  windowMs: number;
}

function cadences(settings: TelemetrySettings, appMetrics: number): MetricCadence[] {
  const list: MetricCadence[] = healthMetricNames.map((name) => ({
    kind: 'health',
    windowMs: metricSettings(settings, name).windowMs,
  }));
  for (let i = 0; i < appMetrics; i += 1) list.push({ kind: 'app', windowMs: settings.app.windowMs });
  return list;
}

export function deviceTraffic(
  input: PlanInput,
  telemetry: TelemetryPlan,
  bench: BenchmarkFigures,
  otaDownloadFraction: number,
): DeviceTraffic {
  const measured = bench.telemetry.bytesPerDevicePerDay.aggregated;
  const bytesPerPoint = measured.payloadBytes / measured.points;
  const framingUp = (measured.upstreamBytes - measured.payloadBytes) / measured.messages;
  const ackDown = measured.downstreamBytes / measured.messages;
  const retention = input.configuration.server.telemetry.retentionDays;
  const metrics = cadences(telemetry.settings, input.monitoring.appMetrics);

  let pointsPerDay = 0;
  let storedRows = 0;
  if (telemetry.enabled) {
    for (const m of metrics) {
      const perDay = DAY_MS / m.windowMs;
      pointsPerDay += perDay;
      const rawDays = m.kind === 'health' ? retention.healthRaw : retention.appRaw;
      storedRows += perDay * rawDays + 24 * retention.hourlyRollups + retention.dailyRollups;
    }
  }
  const shortestWindow = Math.min(...metrics.map((m) => m.windowMs));
  const telemetryMessagesPerDay = telemetry.enabled
    ? DAY_MS / Math.max(telemetry.settings.sendMs, shortestWindow)
    : 0;
  const payloadPerDay = pointsPerDay * bytesPerPoint;
  const heartbeatsPerDay =
    telemetry.transport === 'mqtt' ? 86_400 / input.configuration.agent.heartbeatIntervalS : 0;

  let up: number;
  let down: number;
  let otherMessagesPerDay: number;
  let heartbeatBytesPerDay = 0;
  if (telemetry.transport === 'mqtt') {
    otherMessagesPerDay = heartbeatsPerDay;
    heartbeatBytesPerDay = heartbeatsPerDay * (ESTIMATES.heartbeatPayloadBytes + framingUp);
    up = payloadPerDay + telemetryMessagesPerDay * framingUp + heartbeatBytesPerDay;
    // Heartbeats (QoS 0: no PUBACK) within the keepalive make PINGREQs unnecessary; sparser ones do not.
    const { heartbeatIntervalS, keepaliveS } = input.configuration.agent;
    const keepalives = heartbeatIntervalS > keepaliveS ? 86_400 / keepaliveS : 0;
    down = telemetryMessagesPerDay * ackDown + keepalives * ESTIMATES.keepaliveBytes;
  } else {
    otherMessagesPerDay = ESTIMATES.offerPollsPerDay;
    const requests = telemetryMessagesPerDay + ESTIMATES.offerPollsPerDay;
    up = payloadPerDay * ESTIMATES.httpsGzipRatio + requests * ESTIMATES.httpsUploadOverheadUpBytes;
    down = requests * ESTIMATES.httpsUploadOverheadDownBytes;
  }

  const otaBytesPerMonth =
    (input.firmware.updatesPerYear / 12) * input.firmware.imageMiB * MIB * otaDownloadFraction;
  const bytesPerMonth = (up + down) * DAYS_PER_MONTH + otaBytesPerMonth;
  return {
    pointsPerDay,
    telemetryMessagesPerDay,
    otherMessagesPerDay,
    telemetryMessageBytes: telemetryMessagesPerDay > 0 ? payloadPerDay / telemetryMessagesPerDay : 0,
    upstreamBytesPerDay: up,
    downstreamBytesPerDay: down,
    heartbeatBytesPerDay,
    otaBytesPerMonth,
    storedRowsPerDay: pointsPerDay,
    storedBytes: storedRows * ESTIMATES.storedRowBytes,
    connectedMinutesPerMonth: telemetry.transport === 'mqtt' ? DAYS_PER_MONTH * 24 * 60 : 0,
    bytesPerMonth,
    dataCostPerMonth: (bytesPerMonth / MIB) * input.hardware.connectivity.dataCostPerMiB,
  };
}
