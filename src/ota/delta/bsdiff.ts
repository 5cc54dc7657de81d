/**
 * Binary deltas between firmware images in the standard BSDIFF40 format (bsdiff/bspatch 4.3),
 * so devices can apply them with stock `bspatch`. Built by spawning Debian's `bsdiff`/`bspatch`:
 * same bytes as the native addon, faster, half the memory, and a crash or OOM stays out of the
 * server process (measurements in docs/deltas.md).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ConfigError, ValidationError } from '../../infra/errors.ts';
import { BSDIFF_HEADER_BYTES, parseBsdiffHeader, type BsdiffHeader } from './bsdiff-format.ts';

const run = promisify(execFile);

/** Largest image a patch may produce unless the caller says otherwise: 1 GiB. */
export const DEFAULT_MAX_NEW_BYTES = 1024 * 1024 * 1024;

/** Paths of the bsdiff 4.3 executables (Debian package `bsdiff`). */
export interface BsdiffTools {
  bsdiff: string;
  bspatch: string;
}

export const DEBIAN_BSDIFF_TOOLS: BsdiffTools = { bsdiff: '/usr/bin/bsdiff', bspatch: '/usr/bin/bspatch' };

/** A patch that cannot be applied: not BSDIFF40, damaged, or made for another base image. */
export class InvalidPatchError extends ValidationError {}

export interface PatchStats {
  /** Size of the written patch, in bytes. */
  bytes: number;
  /** Wall time to build it, in milliseconds. */
  ms: number;
}

export interface DeltaOptions {
  tools?: BsdiffTools;
  /** Aborting kills the child process. */
  signal?: AbortSignal;
}

export interface ApplyOptions extends DeltaOptions {
  /** sha256 (hex) of the base image the patch was made from; a different base is refused. */
  oldSha256?: string;
  /** sha256 (hex) the result must have; otherwise nothing is written to `newFile`. */
  newSha256?: string;
  /** Largest output accepted, in bytes. */
  maxNewBytes?: number;
}

/** Runs one of the tools; resolves with undefined, or with its stderr if it failed. */
async function tool(
  file: string,
  args: string[],
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  try {
    await run(file, args, { signal, maxBuffer: 1024 * 1024 });
    return undefined;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new ConfigError(`${file} not found: install the bsdiff package`);
    if (failure.name === 'AbortError') throw error;
    return (failure.stderr ?? '').trim() || failure.message;
  }
}

function tempNear(file: string): string {
  return `${file}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

/** Writes a BSDIFF40 patch turning `oldFile` into `newFile` (memory: about 9× the old file). */
export async function createPatch(
  oldFile: string,
  newFile: string,
  patchFile: string,
  options: DeltaOptions = {},
): Promise<PatchStats> {
  const { bsdiff } = options.tools ?? DEBIAN_BSDIFF_TOOLS;
  const temp = tempNear(patchFile);
  const started = performance.now();
  try {
    const failed = await tool(bsdiff, [oldFile, newFile, temp], options.signal);
    if (failed !== undefined) throw new ValidationError(`cannot build a delta: ${failed}`);
    const ms = performance.now() - started;
    await rename(temp, patchFile);
    return { bytes: (await stat(patchFile)).size, ms };
  } finally {
    await rm(temp, { force: true });
  }
}

/** sha256 of a file, hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads and validates a patch's header; throws InvalidPatchError with the reason. */
export async function readPatchHeader(
  patchFile: string,
  maxNewBytes = DEFAULT_MAX_NEW_BYTES,
): Promise<BsdiffHeader> {
  const handle = await open(patchFile, 'r');
  try {
    const patchBytes = (await handle.stat()).size;
    const first = Buffer.alloc(BSDIFF_HEADER_BYTES);
    await handle.read(first, 0, BSDIFF_HEADER_BYTES, 0);
    const parsed = parseBsdiffHeader(first, { patchBytes, maxNewBytes });
    if (!parsed.ok) throw new InvalidPatchError(`invalid patch: ${parsed.reason}`);
    // Read again up to the extra block's signature so all three bzip2 streams are checked.
    const { ctrlBytes, diffBytes } = parsed.header;
    const head = Buffer.alloc(Math.min(patchBytes, BSDIFF_HEADER_BYTES + ctrlBytes + diffBytes + 4));
    await handle.read(head, 0, head.length, 0);
    const full = parseBsdiffHeader(head, { patchBytes, maxNewBytes });
    if (!full.ok) throw new InvalidPatchError(`invalid patch: ${full.reason}`);
    return full.header;
  } finally {
    await handle.close();
  }
}

/**
 * Applies a BSDIFF40 patch. The header is validated and the base checked against `oldSha256`
 * before anything is applied; the result goes to a temporary file and is renamed to `newFile`
 * only once its size (and `newSha256`, if given) match.
 */
export async function applyPatch(
  oldFile: string,
  patchFile: string,
  newFile: string,
  options: ApplyOptions = {},
): Promise<void> {
  const header = await readPatchHeader(patchFile, options.maxNewBytes);
  if (options.oldSha256 !== undefined && (await sha256File(oldFile)) !== options.oldSha256.toLowerCase())
    throw new InvalidPatchError(
      'invalid patch: made for another base image (sha256 of the old file differs)',
    );
  const { bspatch } = options.tools ?? DEBIAN_BSDIFF_TOOLS;
  const temp = tempNear(newFile);
  try {
    const failed = await tool(bspatch, [oldFile, temp, patchFile], options.signal);
    if (failed !== undefined) throw new InvalidPatchError(`invalid patch: ${failed}`);
    if ((await stat(temp)).size !== header.newBytes)
      throw new InvalidPatchError('invalid patch: output size differs from the header');
    if (options.newSha256 !== undefined && (await sha256File(temp)) !== options.newSha256.toLowerCase())
      throw new InvalidPatchError('invalid patch: result does not match the expected sha256');
    await rename(temp, newFile);
  } finally {
    await rm(temp, { force: true });
  }
}
