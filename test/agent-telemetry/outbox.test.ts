/** The on-disk outbox: restarts, seq high-water mark, drop-oldest, torn files. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentLogger } from '../../src/agent/types.ts';
import type { BatchContent } from '../../src/agent/telemetry/batch-pack.ts';
import { openOutbox, type OutboxOptions } from '../../src/agent/telemetry/outbox.ts';
import { batchFileName, encodeBatchFile } from '../../src/agent/telemetry/outbox-format.ts';

const warnings: string[] = [];
const logger: AgentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (_obj, msg) => warnings.push(msg),
  error: (_obj, msg) => warnings.push(msg),
};
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-outbox-'));
  dirs.push(dir);
  return dir;
}

const content = (code: string): BatchContent => ({
  windows: [],
  events: [{ type: 'error', atMs: 1_764_201_600_000, severity: 'error', code }],
});

const open = (dir: string, options: Partial<OutboxOptions> = {}) => openOutbox({ dir, ...options }, logger);

describe('outbox', () => {
  it('keeps batches and their seqs across a restart, and continues numbering', async () => {
    const dir = await tempDir();
    const first = await open(dir);
    const appended = [];
    for (const code of ['A', 'B', 'C']) appended.push(await first.append(content(code)));
    assert.deepEqual(
      appended.map((b) => b.seq),
      [1, 2, 3],
    );
    const again = await open(dir);
    assert.deepEqual(again.seqs(), [1, 2, 3]);
    assert.equal((await again.read(2))?.events[0]?.code, 'B');
    const next = await again.append(content('D'));
    assert.ok(next.seq > 3, `seq ${next.seq} after a restart`);
  });

  it('never reuses a seq, even after the queue emptied and the process stopped', async () => {
    const dir = await tempDir();
    const first = await open(dir, { seqBlock: 4 });
    const used: number[] = [];
    for (let i = 0; i < 6; i++) used.push((await first.append(content(`E${i}`))).seq);
    for (const seq of used) assert.equal(await first.remove(seq), true);
    assert.deepEqual(first.seqs(), []);
    // The reservation was written before numbers of each block were handed out.
    const reserved = JSON.parse(await readFile(join(dir, 'seq.json'), 'utf8')) as { reservedUpTo: number };
    assert.ok(reserved.reservedUpTo > Math.max(...used));
    const again = await open(dir, { seqBlock: 4 });
    const next = await again.append(content('after'));
    assert.ok(next.seq > Math.max(...used), `seq ${next.seq} must be above ${Math.max(...used)}`);
  });

  it('drops the oldest first when full and reports it in the next batch', async () => {
    const dir = await tempDir();
    const box = await open(dir, { maxBatches: 3 });
    for (const code of ['A', 'B', 'C']) await box.append(content(code));
    const fourth = await box.append(content('D'));
    assert.deepEqual(fourth.dropped, { batches: 1, fromSeq: 1 });
    assert.deepEqual(box.seqs(), [2, 3, 4]);
    const fifth = await box.append(content('E'));
    // Seq 2 is dropped now; no earlier report is lost because seq 4 (which carries one) stays.
    assert.deepEqual(fifth.dropped, { batches: 1, fromSeq: 2 });
    const sixth = await box.append(content('F'));
    const seventh = await box.append(content('G'));
    // Seq 4 carried a report when it was dropped: the report moves forward with the new one.
    assert.deepEqual(sixth.dropped, { batches: 1, fromSeq: 3 });
    assert.deepEqual(seventh.dropped, { batches: 2, fromSeq: 1 });
    assert.equal(box.stats().droppedBatches, 4);
    const onDisk = (await readdir(dir)).filter((n) => n.startsWith('batch-')).length;
    assert.equal(onDisk, 3);
    // The report is part of the stored batch, so it survives a restart.
    assert.deepEqual((await (await open(dir)).read(7))?.dropped, { batches: 2, fromSeq: 1 });
  });

  it('bounds the bytes on disk too', async () => {
    const dir = await tempDir();
    const box = await open(dir, { maxBytes: 2_000 });
    const big: BatchContent = {
      windows: [],
      events: [{ type: 'error', atMs: 1, severity: 'error', code: 'BIG', message: 'x'.repeat(400) }],
    };
    for (let i = 0; i < 10; i++) await box.append(big);
    assert.ok(box.stats().bytes <= 2_000, `${box.stats().bytes} bytes`);
    assert.ok(box.stats().droppedBatches > 0);
  });

  it('skips and counts a torn or corrupt file instead of failing', async () => {
    const dir = await tempDir();
    const box = await open(dir);
    for (const code of ['A', 'B', 'C']) await box.append(content(code));
    const good = encodeBatchFile({ seq: 2, windows: [], events: content('B').events });
    await writeFile(join(dir, batchFileName(2)), good.subarray(0, good.length - 20)); // torn
    await writeFile(join(dir, batchFileName(3)), 'garbage');
    await writeFile(join(dir, `${batchFileName(4)}.abc.tmp`), 'half a write');
    warnings.length = 0;
    const again = await open(dir);
    assert.deepEqual(again.seqs(), [1]);
    assert.equal(again.stats().corruptSkipped, 2);
    assert.ok(warnings.some((w) => w.includes('unreadable')));
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n !== 'seq.json'),
      [batchFileName(1)],
      'the unreadable files and the leftover temporary file are gone',
    );
    assert.ok((await again.append(content('D'))).seq > 3);
  });

  it('counts a file that went bad after start when it is read', async () => {
    const dir = await tempDir();
    const box = await open(dir);
    await box.append(content('A'));
    await writeFile(join(dir, batchFileName(1)), 'bit rot');
    assert.equal(await box.read(1), undefined);
    assert.deepEqual(box.seqs(), []);
    assert.equal(box.stats().corruptSkipped, 1);
  });
});
