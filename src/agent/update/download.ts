/**
 * Resumable download of a signed file into a part file (HTTP Range, RFC 9110 §14). The part file
 * is fsynced every `syncEveryBytes` and the caller records the durable length, so after a power
 * cut the download continues from there. As in tuf-js, the signed length is a hard cap (TUF
 * 5.7.3): a server sending more is refused at once; one with fewer bytes is a truncated download.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Disk, DiskWriter } from './disk.ts';
import { UpdateRefusedError } from './errors.ts';
import type { SignedFile } from './target-policy.ts';
import type { HttpGet } from './transport.ts';

export interface DownloadOptions {
  url: string;
  partPath: string;
  file: SignedFile;
  /** Durable bytes already in the part file (from the journal). */
  startBytes: number;
  syncEveryBytes: number;
  /** Connection attempts before giving up. */
  attempts: number;
  /** Called after each fsync with the durable length; the caller journals it. */
  onDurable: (bytes: number) => Promise<void>;
  /** Waits between attempts. */
  sleep: (ms: number) => Promise<void>;
  retryDelayMs: number;
  signal?: AbortSignal;
}

/** Downloads until the part file holds `file.length` bytes; throws UpdateRefusedError. */
export async function downloadToPart(disk: Disk, get: HttpGet, options: DownloadOptions): Promise<void> {
  const { file } = options;
  const writer = await disk.openWriter(options.partPath);
  try {
    // Anything past the journaled length was not synced: drop it rather than trust it.
    await writer.truncate(options.startBytes);
    let offset = options.startBytes;
    let lastError = '';
    for (let attempt = 1; offset < file.length && attempt <= options.attempts; attempt++) {
      if (attempt > 1) await options.sleep(options.retryDelayMs);
      options.signal?.throwIfAborted();
      let res: IncomingMessage;
      try {
        res = await get(options.url, { rangeStart: offset, signal: options.signal });
      } catch (err) {
        lastError = (err as Error).message;
        continue;
      }
      const start = responseStart(res, offset, file.length);
      if (start === 'unavailable') {
        lastError = `HTTP ${res.statusCode ?? 0}`;
        res.resume();
        continue;
      }
      if (start !== offset) await writer.truncate(start);
      offset = await receive(res, writer, start, options);
    }
    if (offset < file.length) {
      throw lastError === ''
        ? new UpdateRefusedError('truncated_download', `server sent ${offset} of ${file.length} bytes`)
        : new UpdateRefusedError('download_failed', `download failed: ${lastError}`);
    }
  } finally {
    await writer.close();
  }
}

/** Where the body starts, after checking the server's size against the signed length. */
function responseStart(res: IncomingMessage, offset: number, length: number): number | 'unavailable' {
  if (res.statusCode === 206) {
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
    const total = Number(match?.[3] ?? NaN);
    checkTotal(res, total, length);
    return Number(match?.[1]) === offset ? offset : 'unavailable';
  }
  if (res.statusCode === 200) {
    checkTotal(res, Number(res.headers['content-length'] ?? length), length);
    return 0;
  }
  if (res.statusCode === 416) {
    res.resume();
    throw new UpdateRefusedError('truncated_download', `server has fewer than the signed ${length} bytes`);
  }
  return 'unavailable';
}

function checkTotal(res: IncomingMessage, total: number, length: number): void {
  if (!Number.isFinite(total) || total === length) return;
  res.destroy();
  if (total > length)
    throw new UpdateRefusedError(
      'hash_mismatch',
      `server file is ${total} bytes, signed length is ${length}`,
    );
  throw new UpdateRefusedError(
    'truncated_download',
    `server file is ${total} bytes, signed length is ${length}`,
  );
}

async function receive(
  res: IncomingMessage,
  writer: DiskWriter,
  start: number,
  options: DownloadOptions,
): Promise<number> {
  let offset = start;
  let synced = start;
  const flush = async () => {
    await writer.sync();
    synced = offset;
    await options.onDurable(offset);
  };
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch {
        break; // a broken connection: keep what arrived; the next attempt resumes after it
      }
      if (next.done === true) break;
      const bytes = next.value;
      if (offset + bytes.length > options.file.length)
        throw new UpdateRefusedError(
          'hash_mismatch',
          `more bytes than the signed length ${options.file.length}`,
        );
      await writer.write(bytes, offset);
      offset += bytes.length;
      if (offset - synced >= options.syncEveryBytes) await flush();
    }
  } finally {
    res.destroy();
  }
  if (offset > synced) await flush();
  return offset;
}

/** sha256 (hex) of the first `length` bytes of a file (or all of it). */
export async function sha256Of(disk: Disk, path: string, length?: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of disk.readChunks(path, length)) hash.update(chunk);
  return hash.digest('hex');
}
