/**
 * Sends the outbox until every batch is acknowledged: oldest first, at most `maxInFlight`
 * batches unacknowledged at a time. Any ack (`stored`, `duplicate`, `invalid`) deletes its batch.
 * When an ack does not come within `ackTimeoutMs` (or a send fails), sending pauses for a
 * jittered exponential backoff and then starts again from the oldest queued batch, so batches
 * are always (re)sent in seq order. A reconnect resends what was in flight at once. The server
 * stores a batch once by (device, seq), so a resend costs bandwidth, never a double count.
 */
import type { TelemetryAck, TelemetryBatch } from '../../contracts/telemetry-messages.ts';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import { nextDelayMs } from '../backoff.ts';
import type { AgentLogger } from '../types.ts';
import type { Outbox } from './outbox.ts';

export interface TelemetryTransport {
  /** Most batches one send() carries (MQTT 1; HTTPS up to 100 in one upload). */
  readonly maxPerSend: number;
  /** False while a send cannot succeed (MQTT: not connected). */
  ready(): boolean;
  /**
   * Sends `batches`. `acks`: those that came back with the send (HTTPS); `final`: no other ack
   * will come for these batches (HTTPS: the response is the whole answer), so a missing one is
   * resent after a backoff rather than after the ack timeout. Rejects when the send failed.
   */
  send(batches: TelemetryBatch[]): Promise<{ acks: TelemetryAck[]; final: boolean }>;
}

export const SENDER_DEFAULTS = {
  ackTimeoutMs: 30_000,
  maxInFlight: 8,
  retry: { initialMs: 5_000, maxMs: 5 * 60_000 },
} as const;

export interface SenderOptions {
  ackTimeoutMs?: number;
  /** Batches sent and not yet acknowledged, at most. */
  maxInFlight?: number;
  /** Backoff after a missing ack or a failed send (full jitter). */
  retry?: { initialMs: number; maxMs: number };
}

export interface SenderDeps {
  clock: Clock;
  timers: Timers;
  random: () => number;
  logger: AgentLogger;
}

export interface Sender {
  /** Sends what is queued, if it can. Called after appends and on connect. */
  pump(): void;
  /** An ack from the server (already schema-validated). */
  ack(ack: TelemetryAck): void;
  /** The link came up: what was in flight is resent now, and a backoff wait ends. */
  onConnected(): void;
  /** The link went down: nothing in flight will be acknowledged. */
  onDisconnected(): void;
  start(): void;
  stop(): void;
  /** Batches sent and not yet acknowledged. */
  inFlight(): number;
}

export function createSender(
  deps: SenderDeps,
  outbox: Outbox,
  transport: TelemetryTransport,
  options: SenderOptions = {},
): Sender {
  const { timers, logger } = deps;
  const ackTimeoutMs = options.ackTimeoutMs ?? SENDER_DEFAULTS.ackTimeoutMs;
  const maxInFlight = Math.max(1, options.maxInFlight ?? SENDER_DEFAULTS.maxInFlight);
  const retry = options.retry ?? SENDER_DEFAULTS.retry;
  /** Seq → its ack timeout. */
  const inFlight = new Map<number, unknown>();
  let running = false;
  let pumping = false;
  let again = false;
  let attempt = 0;
  let retryTimer: unknown;
  /** Bumped whenever in-flight bookkeeping is reset, so late results of older sends are ignored. */
  let generation = 0;
  let readOrder: Promise<unknown> = Promise.resolve();
  /** Acknowledged batches whose file is being deleted: not to be sent again meanwhile. */
  const removing = new Set<number>();

  function forgetInFlight(): void {
    for (const timer of inFlight.values()) timers.clearTimeout(timer);
    inFlight.clear();
    generation += 1;
  }

  /** Stops sending for a backoff delay, then starts over from the oldest batch. */
  function backOff(why: string): void {
    forgetInFlight();
    if (retryTimer !== undefined || !running) return;
    const delayMs = nextDelayMs(attempt, { ...retry, random: deps.random });
    attempt += 1;
    logger.debug({ why, retryInMs: delayMs, attempt }, 'telemetry: resending after a backoff');
    retryTimer = timers.setTimeout(() => {
      retryTimer = undefined;
      pump();
    }, delayMs);
  }

  function settle(ack: TelemetryAck): void {
    const timer = inFlight.get(ack.seq);
    if (timer !== undefined) timers.clearTimeout(timer);
    inFlight.delete(ack.seq);
    if (!outbox.has(ack.seq) || removing.has(ack.seq)) return; // a second ack for a resent batch
    attempt = 0;
    if (ack.outcome === 'invalid') {
      logger.warn({ seq: ack.seq, rejected: ack.rejected }, 'telemetry batch refused as invalid; dropped');
    } else if (ack.rejected.length > 0) {
      logger.info({ seq: ack.seq, rejected: ack.rejected }, 'telemetry records refused by the server');
    }
    removing.add(ack.seq);
    outbox
      .remove(ack.seq)
      .catch((err: unknown) => {
        logger.warn({ seq: ack.seq, err: (err as Error).message }, 'telemetry batch not removed');
      })
      .finally(() => removing.delete(ack.seq));
  }

  async function readGroup(seqs: number[]): Promise<TelemetryBatch[]> {
    const batches: TelemetryBatch[] = [];
    for (const seq of seqs) {
      const batch = await outbox.read(seq);
      if (batch) batches.push({ ...batch, sentAtMs: deps.clock.now() });
      else inFlight.delete(seq); // acknowledged, dropped or unreadable meanwhile
    }
    return batches;
  }

  async function sendGroup(seqs: number[], gen: number): Promise<void> {
    // Reads are chained so sends start in seq order, whatever the disk's timing.
    const read = readOrder.then(() => readGroup(seqs));
    readOrder = read.catch(() => undefined);
    const batches = await read;
    if (gen !== generation) return;
    if (batches.length < seqs.length) pump(); // room freed by batches gone meanwhile
    if (batches.length === 0) return;
    let result: { acks: TelemetryAck[]; final: boolean };
    try {
      result = await transport.send(batches);
    } catch (err) {
      if (gen === generation) backOff(`send failed: ${(err as Error).message}`);
      return;
    }
    for (const ack of result.acks) settle(ack);
    if (gen !== generation) return;
    if (result.final) {
      const missing = batches.filter((b) => inFlight.has(b.seq));
      if (missing.length > 0) backOff(`${missing.length} batches not acknowledged`);
      else pump();
    }
  }

  function pump(): void {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        while (running && retryTimer === undefined && transport.ready() && inFlight.size < maxInFlight) {
          const room = Math.min(maxInFlight - inFlight.size, transport.maxPerSend);
          const seqs = outbox
            .seqs()
            .filter((seq) => !inFlight.has(seq) && !removing.has(seq))
            .slice(0, room);
          if (seqs.length === 0) break;
          const gen = generation;
          for (const seq of seqs) {
            const timer = timers.setTimeout(() => {
              if (inFlight.get(seq) === timer) backOff(`no ack for seq ${seq} within ${ackTimeoutMs} ms`);
            }, ackTimeoutMs);
            inFlight.set(seq, timer);
          }
          sendGroup(seqs, gen).catch((err: unknown) => {
            logger.warn({ err: (err as Error).message }, 'telemetry send failed');
            if (gen === generation) backOff('send failed');
          });
        }
      } while (again);
    } finally {
      pumping = false;
    }
  }

  return {
    pump,
    ack(ack) {
      settle(ack);
      pump();
    },
    onConnected() {
      forgetInFlight();
      if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
      retryTimer = undefined;
      pump();
    },
    onDisconnected() {
      forgetInFlight();
    },
    start() {
      running = true;
      pump();
    },
    stop() {
      running = false;
      forgetInFlight();
      if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
      retryTimer = undefined;
    },
    inFlight: () => inFlight.size,
  };
}
