/**
 * Store-and-forward queue of telemetry batches on disk: every batch is written (and fsynced)
 * before anything sends it, numbered by a per-device seq that is never reused, and deleted only
 * when the server acknowledged it. Bounded by bytes and by batch count: when full, the oldest
 * batches go first and the next batch reports them in `dropped`. See docs/telemetry-agent.md.
 *
 * Seq: `seq.json` holds `{"reservedUpTo": N}`, persisted before any seq ≥ its previous value is
 * used, in blocks of `seqBlock`. After a restart numbering resumes at max(N, largest queued + 1),
 * so a crash at any point (even with the queue empty) never hands out a used seq again; it may
 * skip up to `seqBlock` numbers, which is not loss (only `dropped` reports loss).
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TelemetryBatch } from '../../contracts/telemetry-messages.ts';
import type { AgentLogger } from '../types.ts';
import type { BatchContent } from './batch-pack.ts';
import { batchFileName, decodeBatchFile, encodeBatchFile, seqOfFileName } from './outbox-format.ts';

export const OUTBOX_DEFAULTS = {
  /** Bytes of batch files kept: 8 MiB. */
  maxBytes: 8 * 1024 * 1024,
  maxBatches: 10_000,
  /** Seqs reserved per write of seq.json. */
  seqBlock: 64,
} as const;

export interface OutboxOptions {
  dir: string;
  maxBytes?: number;
  maxBatches?: number;
  seqBlock?: number;
  /**
   * fsync files and the directory (default true). The simulator turns it off: hundreds of
   * simulated devices on one disk do not need power-loss safety.
   */
  sync?: boolean;
}

export interface OutboxStats {
  batches: number;
  bytes: number;
  /** The seq the next batch gets. */
  nextSeq: number;
  /** Batches dropped because the queue was full, since open. */
  droppedBatches: number;
  /** Files found unreadable (torn writes, corruption) and removed, since open. */
  corruptSkipped: number;
}

export interface Outbox {
  /** Numbers `content`, writes it durably and returns the batch; drops the oldest when full. */
  append(content: BatchContent): Promise<TelemetryBatch>;
  /** Queued seqs, oldest first. */
  seqs(): number[];
  has(seq: number): boolean;
  /** A queued batch; undefined when it is gone, or unreadable (then removed and counted). */
  read(seq: number): Promise<TelemetryBatch | undefined>;
  /** Deletes an acknowledged batch; false when it was not queued. */
  remove(seq: number): Promise<boolean>;
  stats(): OutboxStats;
}

interface Entry {
  bytes: number;
  dropped: TelemetryBatch['dropped'];
}

const SEQ_FILE = 'seq.json';

export async function openOutbox(options: OutboxOptions, logger: AgentLogger): Promise<Outbox> {
  const { dir } = options;
  const maxBytes = options.maxBytes ?? OUTBOX_DEFAULTS.maxBytes;
  const maxBatches = options.maxBatches ?? OUTBOX_DEFAULTS.maxBatches;
  const seqBlock = options.seqBlock ?? OUTBOX_DEFAULTS.seqBlock;
  const sync = options.sync ?? true;
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const entries = new Map<number, Entry>(); // insertion order = seq order
  let bytes = 0;
  let droppedBatches = 0;
  let corruptSkipped = 0;

  const found = await scan();
  let reservedUpTo = await readReservation();
  let nextSeq = Math.max(reservedUpTo, found.maxSeq + 1, 1);
  let chain: Promise<unknown> = Promise.resolve();

  /** Loads every readable batch file, removes leftovers and unreadable files. */
  async function scan(): Promise<{ maxSeq: number }> {
    let maxSeq = 0;
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        await unlink(join(dir, name)).catch(() => undefined);
        continue;
      }
      const seq = seqOfFileName(name);
      if (seq === undefined) continue;
      const content = await readFile(join(dir, name));
      const decoded = decodeBatchFile(content, seq);
      if (!decoded.ok) {
        await skipCorrupt(seq, decoded.reason);
        // Its number was used: never hand it out again.
        maxSeq = Math.max(maxSeq, seq);
        continue;
      }
      entries.set(seq, { bytes: content.length, dropped: decoded.batch.dropped });
      bytes += content.length;
      maxSeq = Math.max(maxSeq, seq);
    }
    return { maxSeq };
  }

  async function skipCorrupt(seq: number, reason: string): Promise<void> {
    corruptSkipped += 1;
    logger.warn({ seq, reason }, 'skipping an unreadable telemetry batch file');
    await unlink(join(dir, batchFileName(seq))).catch(() => undefined);
  }

  async function readReservation(): Promise<number> {
    let text: string;
    try {
      text = await readFile(join(dir, SEQ_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    try {
      const value = (JSON.parse(text) as { reservedUpTo?: unknown }).reservedUpTo;
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    } catch {
      // fall through
    }
    // Written by rename, so this is disk corruption: continue after the queue, and say so.
    logger.error({ file: join(dir, SEQ_FILE) }, 'telemetry seq file unreadable; continuing after the queue');
    return 0;
  }

  async function writeFile(name: string, data: Buffer | string): Promise<void> {
    const path = join(dir, name);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    if (sync) await syncDir();
  }

  async function syncDir(): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Runs `fn` after every earlier operation: appends and removals never interleave. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }

  async function takeSeq(): Promise<number> {
    const seq = nextSeq;
    if (seq >= reservedUpTo) {
      // Persisted before the number is used (the high-water mark).
      reservedUpTo = seq + seqBlock;
      await writeFile(SEQ_FILE, JSON.stringify({ reservedUpTo }));
    }
    nextSeq = seq + 1;
    return seq;
  }

  /** The oldest entries to drop so that one more batch of `size` bytes fits. */
  function victims(size: number): number[] {
    const out: number[] = [];
    let count = entries.size;
    let total = bytes;
    for (const [seq, entry] of entries) {
      if (count + 1 <= maxBatches && total + size <= maxBytes) break;
      out.push(seq);
      count -= 1;
      total -= entry.bytes;
    }
    return out;
  }

  return {
    append: (content) =>
      exclusive(async () => {
        const seq = await takeSeq();
        let batch: TelemetryBatch = { seq, windows: content.windows, events: content.events };
        const estimate = encodeBatchFile(batch).length + 64; // room for a dropped report
        const drop = victims(estimate);
        if (drop.length > 0) {
          // A dropped batch's own report is carried forward, so no loss goes unreported.
          let count = 0;
          let fromSeq = Number.MAX_SAFE_INTEGER;
          for (const s of drop) {
            const report = entries.get(s)?.dropped;
            count += 1 + (report?.batches ?? 0);
            fromSeq = Math.min(fromSeq, s, report?.fromSeq ?? s);
          }
          batch = { ...batch, dropped: { batches: count, fromSeq } };
        }
        const encoded = encodeBatchFile(batch);
        // The new batch is on disk before the old ones go: a crash in between loses nothing.
        await writeFile(batchFileName(seq), encoded);
        for (const s of drop) {
          const entry = entries.get(s);
          entries.delete(s);
          bytes -= entry?.bytes ?? 0;
          droppedBatches += 1;
          await unlink(join(dir, batchFileName(s))).catch(() => undefined);
        }
        if (drop.length > 0)
          logger.warn({ dropped: batch.dropped }, 'telemetry queue full: dropped the oldest');
        entries.set(seq, { bytes: encoded.length, dropped: batch.dropped });
        bytes += encoded.length;
        return batch;
      }),
    seqs: () => [...entries.keys()],
    has: (seq) => entries.has(seq),
    async read(seq) {
      if (!entries.has(seq)) return undefined;
      let content: Buffer;
      try {
        content = await readFile(join(dir, batchFileName(seq)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return undefined; // removed meanwhile (acknowledged or dropped)
      }
      const decoded = decodeBatchFile(content, seq);
      if (decoded.ok) return decoded.batch;
      await exclusive(async () => {
        const entry = entries.get(seq);
        if (!entry) return;
        entries.delete(seq);
        bytes -= entry.bytes;
        await skipCorrupt(seq, decoded.reason);
      });
      return undefined;
    },
    remove: (seq) =>
      exclusive(async () => {
        const entry = entries.get(seq);
        if (!entry) return false;
        entries.delete(seq);
        bytes -= entry.bytes;
        // Not fsynced: a removal lost to power loss only means one duplicate send (at-least-once).
        await unlink(join(dir, batchFileName(seq))).catch(() => undefined);
        return true;
      }),
    stats: () => ({ batches: entries.size, bytes, nextSeq, droppedBatches, corruptSkipped }),
  };
}
