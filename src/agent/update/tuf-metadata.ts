/**
 * Verified update metadata through tuf-js (TUF 5.3-5.6): refresh the top-level roles, then read
 * targets. Metadata comes over mTLS through our own Fetcher. tuf-js's errors are mapped to the
 * contract's failure reasons here, in one place.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, MetadataKind } from '@tufjs/models';
import { Updater, type Fetcher } from 'tuf-js';
import {
  BadVersionError,
  DownloadError,
  DownloadHTTPError,
  DownloadLengthMismatchError,
  ExpiredMetadataError,
} from 'tuf-js/dist/error.js';
import { UpdateRefusedError } from './errors.ts';
import type { SignedFile } from './target-policy.ts';
import { BodyTooLargeError, readBody, type HttpGet } from './transport.ts';

/** tuf-js's Fetcher over our HTTP GET (mTLS); tuf-js enforces the metadata length caps. */
export function createTufFetcher(get: HttpGet): Fetcher {
  async function downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    let res;
    try {
      res = await get(url);
    } catch (err) {
      throw new DownloadError(`cannot fetch ${url}: ${(err as Error).message}`);
    }
    if (res.statusCode !== 200) {
      res.resume();
      throw new DownloadHTTPError(`GET ${url}: HTTP ${res.statusCode ?? 0}`, res.statusCode ?? 0);
    }
    try {
      return await readBody(res, maxLength);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new DownloadLengthMismatchError('Max length reached');
      throw new DownloadError(`cannot fetch ${url}: ${(err as Error).message}`);
    }
  }
  return {
    downloadBytes,
    // Only Updater.downloadTarget uses this; the client downloads targets itself (download.ts).
    async downloadFile(url, maxLength, handler) {
      const dir = await mkdtemp(join(tmpdir(), 'flotilla-tuf-'));
      try {
        const file = join(dir, 'download');
        await writeFile(file, await downloadBytes(url, maxLength));
        return await handler(file);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface VerifiedTargets {
  /** The named target, or undefined when it is not signed. */
  get(name: string): Promise<{ file: SignedFile; custom: unknown } | undefined>;
  /** Every signed target (top-level targets role) with its custom fields. */
  all(): Promise<{ file: SignedFile; custom: unknown }[]>;
}

export interface TufOptions {
  /** Holds root.json (shipped with the device, TUF 5.2) and the metadata tuf-js persists. */
  metadataDir: string;
  /** `${deviceHttpUrl}/device/v1/tuf` */
  metadataBaseUrl: string;
  fetcher: Fetcher;
}

/** Refreshes (TUF 5.3-5.6) and returns the verified targets; throws UpdateRefusedError. */
export async function refreshTargets(options: TufOptions): Promise<VerifiedTargets> {
  // tuf-js turns a failed snapshot or targets download into a plain RuntimeError carrying only the
  // message, so the transport failure is remembered here: a server that went away mid-refresh is
  // `download_failed` (retried), never `metadata_invalid`.
  const transport = { failed: false };
  const remember = <T>(download: () => Promise<T>): Promise<T> =>
    download().catch((err: unknown) => {
      // A 404 is an answer (TUF 5.3.3 asks for the next root until one is missing); a dropped
      // connection or a 5xx is not.
      const answered = err instanceof DownloadHTTPError && err.statusCode < 500;
      if (isTransportFailure(err) && !answered) transport.failed = true;
      throw err;
    });
  const fetcher: Fetcher = {
    downloadBytes: (url, maxLength) => remember(() => options.fetcher.downloadBytes(url, maxLength)),
    downloadFile: (url, maxLength, handler) =>
      remember(() => options.fetcher.downloadFile(url, maxLength, handler)),
  };
  const mapTufErrors = <T>(action: () => Promise<T>): Promise<T> => mapErrors(action, transport);
  const updater = new Updater({
    metadataDir: options.metadataDir,
    metadataBaseUrl: options.metadataBaseUrl,
    targetBaseUrl: `${options.metadataBaseUrl}/targets`,
    fetcher,
    config: { fetchRetry: false },
  });
  await mapTufErrors(() => updater.refresh());
  const toFile = (info: {
    path: string;
    length: number;
    hashes: Record<string, string>;
    custom: unknown;
  }) => {
    const sha256 = info.hashes['sha256'];
    if (sha256 === undefined)
      throw new UpdateRefusedError('metadata_invalid', `target ${info.path} has no sha256`);
    return { file: { name: info.path, sha256, length: info.length }, custom: info.custom };
  };
  return {
    async get(name) {
      const info = await mapTufErrors(() => updater.getTargetInfo(name));
      return info ? toFile(info) : undefined;
    },
    async all() {
      // tuf-js persists targets.json only after verifying it in refresh() (TUF 5.6.8); listing
      // reads it, and each candidate is confirmed again with get() against the trusted set.
      const text = await readFile(join(options.metadataDir, 'targets.json'), 'utf8');
      const targets = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(text) as never);
      return Object.values(targets.signed.targets).map((t) => toFile(t));
    },
  };
}

/** The server could not be reached or answered an HTTP error: worth retrying, unlike bad metadata. */
const isTransportFailure = (err: unknown): boolean =>
  err instanceof DownloadError && !(err instanceof DownloadLengthMismatchError);

async function mapErrors<T>(action: () => Promise<T>, transport: { failed: boolean }): Promise<T> {
  transport.failed = false;
  try {
    return await action();
  } catch (err) {
    if (err instanceof UpdateRefusedError) throw err;
    const detail = (err as Error).message;
    if (isTransportFailure(err) || transport.failed)
      throw new UpdateRefusedError('download_failed', `TUF metadata: ${detail}`);
    // TUF 5.4.4 / 5.5.x expiry; 5.3.5, 5.4.3, 5.5.5 version rollback (includes EqualVersionError).
    const reason =
      err instanceof ExpiredMetadataError
        ? 'metadata_expired'
        : err instanceof BadVersionError
          ? 'metadata_rollback'
          : 'metadata_invalid';
    throw new UpdateRefusedError(reason, `TUF metadata: ${detail}`);
  }
}
