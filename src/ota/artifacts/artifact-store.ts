/**
 * Content-addressed artifact storage on a local directory: `<root>/sha256/<first 2 hex>/<hash>`.
 * A blob is streamed to a temporary file while its SHA-256 is computed, fsynced, then renamed to
 * its hash, so a reader never sees a partial artifact and power loss leaves at most a temp file
 * (removed at open). The same layout works on shared storage behind a CDN: names never change
 * content, so URLs are immutable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PayloadTooLargeError, ValidationError } from '../../infra/errors.ts';

export interface StoredArtifact {
  sha256: string;
  /** bytes */
  size: number;
}

export interface ArtifactStore {
  /** Streams `source` into the store; refuses more than `maxBytes`. Idempotent for equal content. */
  put(source: Readable, options?: { maxBytes?: number; expectedSha256?: string }): Promise<StoredArtifact>;
  /** Size in bytes, or undefined when the artifact is not stored. */
  size(sha256: string): Promise<number | undefined>;
  /** A stream of bytes `start`..`end` inclusive (HTTP Range semantics). */
  read(sha256: string, range?: { start: number; end: number }): ReadStream;
  path(sha256: string): string;
  /** Stores the minisign signature (`.minisig` text) next to the artifact, replacing an older one. */
  writeSignature(sha256: string, minisig: string): Promise<void>;
  /** The stored `.minisig` text, or undefined when the artifact has none. */
  readSignature(sha256: string): Promise<string | undefined>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_DIR = 'tmp';

export async function openArtifactStore(root: string): Promise<ArtifactStore> {
  await mkdir(join(root, 'sha256'), { recursive: true, mode: 0o750 });
  // Leftovers of uploads interrupted by a crash or power loss.
  await rm(join(root, TEMP_DIR), { recursive: true, force: true });
  await mkdir(join(root, TEMP_DIR), { recursive: true, mode: 0o750 });

  const pathOf = (sha256: string): string => {
    if (!SHA256_HEX.test(sha256))
      throw new ValidationError(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return join(root, 'sha256', sha256.slice(0, 2), sha256);
  };

  return {
    path: pathOf,
    async size(sha256) {
      try {
        return (await stat(pathOf(sha256))).size;
      } catch {
        return undefined;
      }
    },
    async writeSignature(sha256, minisig) {
      // A side file `<hash>.minisig`; listArtifacts ignores it (not a bare hash).
      const temp = join(root, TEMP_DIR, `${randomBytes(8).toString('hex')}.minisig`);
      await writeFile(temp, minisig, { mode: 0o640 });
      await rename(temp, `${pathOf(sha256)}.minisig`);
    },
    async readSignature(sha256) {
      try {
        return await readFile(`${pathOf(sha256)}.minisig`, 'utf8');
      } catch {
        return undefined;
      }
    },
    read(sha256, range) {
      return createReadStream(pathOf(sha256), range ? { start: range.start, end: range.end } : {});
    },
    async put(source, options = {}) {
      const temp = join(root, TEMP_DIR, `${randomBytes(8).toString('hex')}.part`);
      const hash = createHash('sha256');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (options.maxBytes !== undefined && size > options.maxBytes) {
            done(new PayloadTooLargeError(`artifact exceeds the limit of ${options.maxBytes} bytes`));
            return;
          }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(source, counter, createWriteStream(temp, { mode: 0o640 }));
        const handle = await open(temp, 'r');
        await handle.sync();
        await handle.close();
        const sha256 = hash.digest('hex');
        if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256) {
          throw new ValidationError(`artifact sha256 is ${sha256}, expected ${options.expectedSha256}`);
        }
        const final = pathOf(sha256);
        await mkdir(join(root, 'sha256', sha256.slice(0, 2)), { recursive: true, mode: 0o750 });
        await rename(temp, final);
        const dir = await open(join(root, 'sha256', sha256.slice(0, 2)), 'r');
        await dir.sync();
        await dir.close();
        return { sha256, size };
      } finally {
        await rm(temp, { force: true });
      }
    },
  };
}

/** Artifacts on disk, for maintenance (garbage collection of unreferenced blobs later). */
export async function listArtifacts(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of await readdir(join(root, 'sha256'))) {
    for (const name of await readdir(join(root, 'sha256', prefix))) if (SHA256_HEX.test(name)) out.push(name);
  }
  return out.sort();
}
