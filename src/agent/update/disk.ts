/**
 * Every file the update client writes (journal, part file, inactive slot, boot env file) goes
 * through this interface, so tests can swap in a disk that loses unsynced data on a power cut.
 * Production: node:fs with fsync, as in ../durable-file.ts.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { removeIfPresent, renameDurably, TEMP_SUFFIX } from '../durable-file.ts';

/** A file opened for positional writes; nothing is durable before `sync()` resolves. */
export interface DiskWriter {
  write(data: Uint8Array, position: number): Promise<void>;
  truncate(length: number): Promise<void>;
  /** fsync(2): everything written so far survives a power cut. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface Disk {
  /** The whole file, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Size in bytes, or undefined when absent (block devices report 0: configure slot capacity). */
  size(path: string): Promise<number | undefined>;
  /** The first `length` bytes (or all of it), as a stream of chunks. */
  readChunks(path: string, length?: number): AsyncIterable<Buffer>;
  /** Replaces the file atomically and durably: after a crash it holds the old or the new bytes. */
  replaceFile(path: string, data: Uint8Array): Promise<void>;
  /** Opens for writing without truncating (block devices cannot be); creates a missing regular file. */
  openWriter(path: string): Promise<DiskWriter>;
  /** Removes the file durably; absent is fine. */
  remove(path: string): Promise<void>;
}

/** node:fs with fsync on every durability point. */
export const nodeDisk: Disk = {
  async readFile(path) {
    try {
      return await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async size(path) {
    try {
      return (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async *readChunks(path, length) {
    if (length === 0) return;
    const end = length === undefined ? undefined : length - 1;
    for await (const chunk of createReadStream(path, { start: 0, end })) yield chunk as Buffer;
  },
  async replaceFile(path, data) {
    const tmp = `${path}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameDurably(tmp, path);
  },
  async openWriter(path) {
    let handle;
    try {
      handle = await open(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      handle = await open(path, 'w+', 0o600);
      await syncDirectory(dirname(path));
    }
    const h = handle;
    return {
      write: async (data, position) => {
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await h.write(data, done, data.length - done, position + done);
          done += bytesWritten;
        }
      },
      truncate: (length) => h.truncate(length),
      sync: () => h.sync(),
      close: () => h.close(),
    };
  },
  async remove(path) {
    await removeIfPresent(path);
    await syncDirectory(dirname(path));
  },
};

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
