/**
 * Telemetry decisions: the agent's cadences and transport (configured, or chosen from the link),
 * with findings when a configured value fights the link or the monitoring requirements. Pure.
 */
import { settingsFromConfig } from '../agent/telemetry/telemetry-config.ts';
import { TELEMETRY_DEFAULTS, type TelemetrySettings } from '../agent/telemetry/settings.ts';
import type { Decision, Finding } from './findings.ts';
import { fmtDuration } from './format.ts';
import type { PlanInput } from './input-schema.ts';
import type { LinkProfile } from './link.ts';

/** Alert rule metrics that read a health metric, so a monitoring interval sets that metric's sampling. */
const HEALTH_METRIC_OF: Record<string, string> = {
  battery: 'battery_pct',
  signal: 'signal_dbm',
  temperature: 'temperature_c',
  error_rate: 'errors',
};

export interface TelemetryPlan {
  /** false: the agent sends no telemetry at all. */
  enabled: boolean;
  transport: 'mqtt' | 'https';
  settings: TelemetrySettings;
  /** `configured`: the input's agent telemetry section; `chosen`: the plan's. */
  source: 'configured' | 'chosen';
  decisions: Decision[];
  findings: Finding[];
}

const HOUR_MS = 3_600_000;

/** The cadences for a link when the input does not configure them. */
function chosenSettings(link: LinkProfile): { settings: TelemetrySettings; reason: string } {
  if (link.metered && link.narrowBand) {
    const sendMs = link.batteryPowered ? 6 * HOUR_MS : HOUR_MS;
    return {
      settings: {
        health: { sampleMs: 300_000, windowMs: HOUR_MS },
        app: { sampleMs: 300_000, windowMs: HOUR_MS },
        sendMs,
        metrics: {},
      },
      reason: `metered narrow-band link: hourly windows (12 samples each) and one upload every ${fmtDuration(sendMs / 1000)}${link.batteryPowered ? ' so the radio sleeps in between' : ''}; fewer, fuller messages cost less framing and fewer radio wake-ups`,
    };
  }
  if (link.metered || link.narrowBand) {
    return {
      settings: {
        health: { sampleMs: 60_000, windowMs: 15 * 60_000 },
        app: { sampleMs: 60_000, windowMs: 15 * 60_000 },
        sendMs: 15 * 60_000,
        metrics: {},
      },
      reason: `${link.metered ? 'metered' : 'narrow-band'} link: 15-minute windows sent every 15 minutes`,
    };
  }
  return {
    settings: TELEMETRY_DEFAULTS,
    reason:
      "unmetered link: the agent's defaults (5-minute health, 1-minute application windows, sent every 30 s)",
  };
}

/** Monitoring intervals shorter than a metric's sampling become per-metric overrides. */
function applyMonitoring(input: PlanInput, settings: TelemetrySettings): TelemetrySettings {
  const metrics = { ...settings.metrics };
  for (const m of input.monitoring.metrics) {
    const name = HEALTH_METRIC_OF[m.metric];
    if (name === undefined) continue;
    const sampleMs = Math.round(m.intervalS * 1000);
    if (sampleMs >= settings.health.sampleMs) continue;
    const windowMs = Math.ceil(settings.health.windowMs / sampleMs) * sampleMs;
    metrics[name] = { sampleMs, windowMs };
  }
  return { ...settings, metrics };
}

export function planTelemetry(input: PlanInput, link: LinkProfile): TelemetryPlan {
  const configured = input.configuration.agent.telemetry;
  const findings: Finding[] = [];
  const decisions: Decision[] = [];
  if (configured !== undefined) {
    const settings = settingsFromConfig(configured);
    const plan: TelemetryPlan = {
      enabled: configured.enabled,
      transport: configured.transport,
      settings,
      source: 'configured',
      decisions,
      findings,
    };
    decisions.push({
      topic: 'telemetry cadence',
      choice: `configured: ${describe(settings)}`,
      reason: 'configuration.agent.telemetry',
    });
    decisions.push({
      topic: 'telemetry transport',
      choice: configured.transport,
      reason: 'configuration.agent.telemetry.transport',
    });
    if (link.metered && link.narrowBand && configured.transport === 'mqtt')
      findings.push({
        severity: 'warning',
        field: 'configuration.agent.telemetry.transport',
        message:
          'a persistent MQTT session on a metered narrow-band link pays keepalives and heartbeats all day; use "https" (batched uploads)',
      });
    if (link.metered && settings.sendMs < 15 * 60_000)
      findings.push({
        severity: 'warning',
        field: 'configuration.agent.telemetry.sendS',
        message: `uploads every ${fmtDuration(settings.sendMs / 1000)} on a metered link; 15 minutes or more keeps framing small`,
      });
    if (configured.enabled && configured.transport === 'https') findings.push(daemonSessionFinding());
    if (!configured.enabled)
      findings.push({
        severity: 'warning',
        field: 'configuration.agent.telemetry.enabled',
        message: "telemetry is off: no health data for alerts or the rollouts' health gates",
      });
    return plan;
  }
  const chosen = chosenSettings(link);
  const settings = applyMonitoring(input, chosen.settings);
  const transport = link.metered && link.narrowBand ? 'https' : link.batteryPowered ? 'https' : 'mqtt';
  decisions.push({ topic: 'telemetry cadence', choice: describe(settings), reason: chosen.reason });
  const overrides = Object.keys(settings.metrics);
  if (overrides.length > 0)
    decisions.push({
      topic: 'per-metric sampling',
      choice: overrides
        .map((name) => `${name} every ${fmtDuration((settings.metrics[name]?.sampleMs ?? 0) / 1000)}`)
        .join(', '),
      reason: 'the monitoring requirements ask for these intervals (monitoring.metrics)',
    });
  decisions.push({
    topic: 'telemetry transport',
    choice:
      transport === 'https'
        ? 'HTTPS batch uploads (wake, send, sleep)'
        : "the agent's persistent MQTT session",
    reason:
      transport === 'https'
        ? 'no persistent session: no keepalives or heartbeats between uploads, and the radio can sleep'
        : 'the session is there anyway for pushed update offers; acknowledgements ride on it',
  });
  if (transport === 'https') findings.push(daemonSessionFinding());
  return { enabled: true, transport, settings, source: 'chosen', decisions, findings };
}

/** What the agent as built does with `transport: https`, so nobody plans on more. */
function daemonSessionFinding(): Finding {
  return {
    severity: 'warning',
    field: 'configuration.agent.telemetry.transport',
    message:
      "Flotilla's agent daemon sends telemetry over HTTPS but still keeps its MQTT session (state, heartbeats, pushed offers; src/agent/daemon.ts); a wake-send-sleep device must stop it between uploads. The costs here assume no persistent session",
  };
}

export function describe(settings: TelemetrySettings): string {
  const d = (ms: number) => fmtDuration(ms / 1000);
  return `health ${d(settings.health.sampleMs)} samples in ${d(settings.health.windowMs)} windows, application ${d(settings.app.sampleMs)} in ${d(settings.app.windowMs)}, sent every ${d(settings.sendMs)}`;
}
