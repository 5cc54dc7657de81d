/**
 * Log bundles of `logs` executions on disk: `<dataDir>/job-logs/<jobId>/<executionId>.log.gz`.
 * An upload streams into a temporary file, is cut off past MAX_LOG_BUNDLE_BYTES, must start with
 * the gzip magic bytes (RFC 1952 2.3.1), and is renamed into place only when complete.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MAX_LOG_BUNDLE_BYTES } from '../contracts/job-messages.ts';
import { NotFoundError, PayloadTooLargeError, ValidationError } from '../infra/errors.ts';

const GZIP_MAGIC = [0x1f, 0x8b];

export interface JobLogFiles {
  /** Stores the bundle; returns its path relative to the log directory and its size in bytes. */
  write(jobId: string, executionId: string, body: Readable): Promise<{ file: string; bytes: number }>;
  /** A stream of a stored bundle; NotFoundError when it is gone. */
  read(file: string): Promise<Readable>;
}

export function jobLogFiles(root: string, maxBytes = MAX_LOG_BUNDLE_BYTES): JobLogFiles {
  return {
    async write(jobId, executionId, body) {
      const relative = join(jobId, `${executionId}.log.gz`);
      const directory = join(root, jobId);
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const temp = join(directory, `.${executionId}.${randomBytes(4).toString('hex')}.tmp`);
      const handle = await open(temp, 'wx', 0o600);
      let bytes = 0;
      try {
        for await (const chunk of body) {
          const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
          if (
            bytes === 0 &&
            (buffer[0] !== GZIP_MAGIC[0] || (buffer.length > 1 && buffer[1] !== GZIP_MAGIC[1]))
          )
            throw new ValidationError('the log bundle must be gzip (application/gzip)', { field: 'body' });
          bytes += buffer.length;
          if (bytes > maxBytes)
            throw new PayloadTooLargeError(`the log bundle exceeds ${maxBytes} bytes`, { limit: maxBytes });
          await handle.write(buffer);
        }
        if (bytes < GZIP_MAGIC.length)
          throw new ValidationError('the log bundle is empty', { field: 'body' });
        await handle.sync();
        await handle.close();
        await rename(temp, join(root, relative));
        return { file: relative, bytes };
      } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(temp, { force: true });
        throw error;
      }
    },
    async read(file) {
      const path = join(root, file);
      try {
        await stat(path);
      } catch {
        throw new NotFoundError('the log bundle is no longer stored', { file });
      }
      return createReadStream(path);
    },
  };
}
