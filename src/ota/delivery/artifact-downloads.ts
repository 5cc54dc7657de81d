/**
 * Firmware downloads on the device HTTPS API: `GET /device/v1/artifacts/{sha256}` for devices with a
 * valid certificate. URLs are immutable (the name is the content hash), so responses carry a strong
 * ETag and `Cache-Control: immutable` and a CDN or caching proxy can sit in front; `Range` resumes an
 * interrupted download; a concurrency limit answers 503 with `Retry-After` instead of queueing, and
 * a bandwidth limit (one token bucket shared by all downloads, optionally one per download) paces
 * the bytes sent.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { ThrottleStream } from './download-throttle.ts';
import { parseRange } from './http-range.ts';
import { TokenBucket } from './token-bucket.ts';

export interface DownloadLimits {
  /** Downloads served at once; more are told to come back later. */
  maxConcurrent: number;
  /** Seconds a refused client should wait (`Retry-After`). */
  retryAfterS: number;
  /** Bytes per second sent by all downloads together; 0 = unlimited. */
  maxBytesPerS: number;
  /** Bytes per second sent by any one download; 0 = unlimited. */
  maxBytesPerSPerDownload: number;
}

/** The parts of a Fastify request and reply the handler uses (any Fastify server flavour fits). */
export interface DownloadRequest {
  params: { sha256: string };
  query: { expires?: string; sig?: string };
  headers: IncomingHttpHeaders;
  raw: IncomingMessage;
}

export interface DownloadReply {
  status(code: number): DownloadReply;
  header(name: string, value: string): DownloadReply;
  type(contentType: string): DownloadReply;
  send(body?: unknown): DownloadReply;
}

export interface ArtifactDownloadDeps {
  artifacts: ArtifactStore;
  /** Undefined when the client may download, else why not (answered with 401). */
  refusal(request: DownloadRequest): string | undefined;
  limits: DownloadLimits;
  clock: Clock;
  timers: Timers;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function error(reply: DownloadReply, status: number, code: string, message: string): DownloadReply {
  return reply.status(status).send({ error: { code, message } });
}

/** The handler for `GET /device/v1/artifacts/:sha256`. */
export function createArtifactDownloadHandler(deps: ArtifactDownloadDeps): {
  serve(request: DownloadRequest, reply: DownloadReply): Promise<DownloadReply>;
  active(): number;
} {
  let active = 0;
  const { maxBytesPerS, maxBytesPerSPerDownload } = deps.limits;
  const shared = maxBytesPerS > 0 ? new TokenBucket({ bytesPerS: maxBytesPerS }, deps.clock) : undefined;

  /** The body as sent: the artifact, paced when a bandwidth limit is configured. */
  function paced(source: Readable): Readable {
    const buckets = [
      ...(shared ? [shared] : []),
      ...(maxBytesPerSPerDownload > 0
        ? [new TokenBucket({ bytesPerS: maxBytesPerSPerDownload }, deps.clock)]
        : []),
    ];
    if (buckets.length === 0) return source;
    // pipeline destroys the file stream when the client goes away and the throttle is destroyed.
    return pipeline(source, new ThrottleStream(buckets, { timers: deps.timers }), () => {});
  }

  async function serve(request: DownloadRequest, reply: DownloadReply): Promise<DownloadReply> {
    const why = deps.refusal(request);
    if (why !== undefined) return error(reply, 401, 'unauthorized', why);
    const { sha256 } = request.params;
    const size = SHA256_HEX.test(sha256) ? await deps.artifacts.size(sha256) : undefined;
    if (size === undefined) return error(reply, 404, 'not_found', `no artifact ${sha256}`);

    const etag = `"${sha256}"`;
    reply
      .header('etag', etag)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('accept-ranges', 'bytes');
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    // If-Range (RFC 9110 §13.1.5): resume only when the client holds this representation.
    const ifRange = request.headers['if-range'];
    const range =
      ifRange !== undefined && ifRange !== etag
        ? ({ kind: 'full' } as const)
        : parseRange(request.headers.range, size);
    if (range.kind === 'unsatisfiable')
      return reply.status(416).header('content-range', `bytes */${size}`).send();

    if (active >= deps.limits.maxConcurrent) {
      reply.header('retry-after', String(deps.limits.retryAfterS));
      return error(reply, 503, 'unavailable', 'too many downloads in progress; retry later');
    }
    active += 1;
    const file: Readable =
      range.kind === 'partial' ? deps.artifacts.read(sha256, range) : deps.artifacts.read(sha256);
    file.once('close', () => {
      active -= 1;
    });
    const stream = paced(file);
    reply.type('application/octet-stream');
    if (range.kind === 'partial') {
      reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', String(range.end - range.start + 1));
    } else {
      reply.status(200).header('content-length', String(size));
    }
    return reply.send(stream);
  }

  return { serve, active: () => active };
}
