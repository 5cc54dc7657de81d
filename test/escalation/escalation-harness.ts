/**
 * Test parts for the escalation engine: recording channels that can be made to fail or hang,
 * an engine on real stores with a hand-advanced clock, and alert raising through the service.
 */
import { pino } from 'pino';
import { createAlertService, type AlertService } from '../../src/alerts/alert-service.ts';
import type { AlertRaiseInput } from '../../src/alerts/alert.ts';
import {
  DeliveryError,
  type DeliveryPolicy,
  type NotificationChannel,
} from '../../src/alerts/channels/channel.ts';
import type { NotificationMessage } from '../../src/alerts/channels/message.ts';
import { alertsConfigSchema, type AlertsConfig } from '../../src/alerts/escalation/escalation-config.ts';
import {
  createEscalationEngine,
  type EscalationEngine,
} from '../../src/alerts/escalation/escalation-engine.ts';
import type { Stores } from '../../src/store/open-store.ts';
import type { Timers } from '../../src/infra/timers.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';

export const t0 = Date.UTC(2025, 0, 1);
export const minute = 60_000;

export interface Received {
  atMs: number;
  message: NotificationMessage;
}

/** What a recording channel does with the next deliveries: deliver, fail, or never answer. */
export type Behaviour = 'ok' | 'fail' | 'reject' | 'hang';

export interface RecordingChannel extends NotificationChannel {
  received: Received[];
  /** Every attempt, failed ones included. */
  attempts: Received[];
  behaviour: Behaviour;
}

export function recordingChannel(
  name: string,
  clock: FakeTime['clock'],
  policy: Partial<DeliveryPolicy> = {},
): RecordingChannel {
  const channel: RecordingChannel = {
    name,
    type: 'webhook',
    received: [],
    attempts: [],
    behaviour: 'ok',
    policy: {
      timeoutMs: 10_000,
      maxAttempts: 3,
      backoff: { initialMs: 1000, maxMs: 60_000 },
      concurrency: 4,
      rateLimit: { max: 1000, windowS: 60, digestListMax: 5 },
      ...policy,
    },
    deliver(message, signal) {
      const entry = { atMs: clock.now(), message };
      channel.attempts.push(entry);
      switch (channel.behaviour) {
        case 'ok':
          channel.received.push(entry);
          return Promise.resolve();
        case 'fail':
          return Promise.reject(new DeliveryError('HTTP 503', true));
        case 'reject':
          return Promise.reject(new DeliveryError('HTTP 400', false));
        case 'hang':
          return new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error('aborted'))),
          );
      }
    },
  };
  return channel;
}

/** warning → team at once, on-call after 30 min; critical → both at once; info → log. */
export const teamPolicy = {
  channels: {
    team: { type: 'webhook', url: 'http://127.0.0.1:1/team', secret: 'team-secret-0123456789' },
    oncall: { type: 'webhook', url: 'http://127.0.0.1:1/oncall', secret: 'oncall-secret-0123456789' },
  },
  escalation: {
    policies: {
      info: [{ afterS: 0, channels: ['log'] }],
      warning: [
        { afterS: 0, channels: ['team'] },
        { afterS: 1800, channels: ['oncall'] },
      ],
      critical: [{ afterS: 0, channels: ['team', 'oncall'] }],
    },
  },
} as const;

export interface Harness {
  time: FakeTime;
  alerts: AlertService;
  engine: EscalationEngine;
  channels: Record<'team' | 'oncall' | 'log', RecordingChannel>;
  /** A new engine on the same stores and channels (a restart); the old one's timers stop firing. */
  restart(): Promise<void>;
  /** Advances the clock, ticks, and waits for the deliveries the tick started (but not hanging ones). */
  step(ms: number, settle?: Array<'team' | 'oncall' | 'log'>): Promise<void>;
  raise(overrides?: Partial<AlertRaiseInput>): Promise<string>;
}

export const raiseInput = (overrides: Partial<AlertRaiseInput> = {}): AlertRaiseInput => ({
  rule: 'battery-low',
  severity: 'warning',
  subject: { kind: 'device', id: 'd1' },
  title: 'battery below 10 %',
  detail: 'battery_pct 8 < 10',
  details: { value: 8 },
  ...overrides,
});

export function buildHarness(
  stores: Stores,
  config: unknown = teamPolicy,
  policies: Partial<Record<'team' | 'oncall' | 'log', Partial<DeliveryPolicy>>> = {},
): Harness {
  const time = fakeTime(t0);
  const logger = pino({ level: 'silent' });
  const alertsConfig: AlertsConfig = alertsConfigSchema.parse(config);
  const channels = {
    team: recordingChannel('team', time.clock, policies.team),
    oncall: recordingChannel('oncall', time.clock, policies.oncall),
    log: recordingChannel('log', time.clock, policies.log),
  };
  // Each engine's timers die with it on a crash, so an abandoned attempt never times out.
  let alive = { value: true };
  const make = (): EscalationEngine => {
    const mine = alive;
    const timers: Timers = {
      ...time.timers,
      setTimeout: (callback, ms) => time.timers.setTimeout(() => mine.value && callback(), ms),
    };
    return createEscalationEngine(
      {
        notifications: stores.notifications,
        alerts: stores.alerts,
        channels: Object.values(channels),
        clock: time.clock,
        timers,
        logger,
        random: () => 0.5,
        apiUrl: () => 'http://flotilla.test',
      },
      alertsConfig.escalation,
    );
  };
  const alerts = createAlertService({
    store: stores.alerts,
    audit: stores.provisioning,
    clock: time.clock,
    logger,
  });
  const harness: Harness = {
    time,
    alerts,
    engine: make(),
    channels,
    async restart() {
      alive.value = false;
      alive = { value: true };
      harness.engine = make();
      await Promise.resolve();
    },
    async step(ms, settle = ['team', 'oncall', 'log']) {
      time.advance(ms);
      await harness.engine.tick();
      for (const name of settle) await harness.engine.settled(name);
    },
    async raise(overrides = {}) {
      return (await alerts.raise(raiseInput(overrides))).alert.id;
    },
  };
  return harness;
}

/** `kind step` of each received message of an alert, e.g. `opened warning:0`. */
export const sent = (channel: RecordingChannel, alertId?: string): string[] =>
  channel.received
    .filter((r) => alertId === undefined || r.message.alert?.id === alertId)
    .map((r) => `${r.message.kind} ${r.message.step}`);
