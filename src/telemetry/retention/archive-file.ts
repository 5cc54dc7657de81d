/**
 * One archive file being written: Parquet row groups appended page by page into a temp file next
 * to the final path; `commit()` finishes it, fsyncs it, renames it into place and fsyncs the
 * directory, so the final path holds either nothing or a whole file. Same rows in, same bytes out
 * (no timestamps in the file), so writing a day again after a crash yields an identical file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileWriter, ParquetWriter, type ColumnSource } from 'hyparquet-writer';
import type { SchemaElement } from './parquet-schemas.ts';

export interface CommittedFile {
  bytes: number;
  sha256: string;
}

export class ArchiveFile {
  readonly #finalPath: string;
  readonly #tempPath: string;
  readonly #writer: ParquetWriter;
  rows = 0;

  private constructor(finalPath: string, schema: SchemaElement[]) {
    this.#finalPath = finalPath;
    this.#tempPath = `${finalPath}.tmp`;
    this.#writer = new ParquetWriter({
      writer: fileWriter(this.#tempPath),
      schema,
      codec: 'SNAPPY',
      // Whole strings in the statistics: truncated bounds could make readers skip matching row groups.
      statisticsTruncateLength: Infinity,
      createdBy: 'flotilla',
    });
  }

  /** Starts `root/relativePath` (creating its directories); the file appears only on commit. */
  static async create(root: string, relativePath: string, schema: SchemaElement[]): Promise<ArchiveFile> {
    const finalPath = join(root, ...relativePath.split('/'));
    await mkdir(dirname(finalPath), { recursive: true, mode: 0o700 });
    return new ArchiveFile(finalPath, schema);
  }

  /** Appends one row group. */
  async append(columnData: ColumnSource[], rows: number): Promise<void> {
    if (rows === 0) return;
    await this.#writer.write({ columnData, rowGroupSize: rows });
    this.rows += rows;
  }

  async commit(): Promise<CommittedFile> {
    await this.#writer.finish();
    const handle = await open(this.#tempPath, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const sha256 = await fileSha256(this.#tempPath);
    const { size } = await stat(this.#tempPath);
    await rename(this.#tempPath, this.#finalPath);
    await syncDirectory(dirname(this.#finalPath));
    return { bytes: size, sha256 };
  }

  /** Removes the temp file after a failure. */
  abort(): Promise<void> {
    return rm(this.#tempPath, { force: true });
  }
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Makes a rename durable (POSIX: the directory entry is data of the directory). */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
