/**
 * Request bodies with `Content-Encoding: gzip` (RFC 9110 8.4), decompressed as a stream for
 * fastify's preParsing hook. Fastify counts the bytes of the stream it is given against the route's
 * bodyLimit, so the cap applies to the decompressed size and a zip bomb is cut off after `limit`
 * bytes, never inflated in full. `receivedEncodedLength` is what fastify compares with the
 * Content-Length header (the compressed size).
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** An unsupported Content-Encoding: answered 415. */
export class UnsupportedEncodingError extends Error {
  readonly statusCode = 415;
}

type Payload = Readable & { receivedEncodedLength?: number };

export function decodedBody(contentEncoding: string | undefined, payload: Payload): Payload {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip')
    throw new UnsupportedEncodingError(`Content-Encoding ${encoding} is not supported; use gzip or none`);
  const gunzip = Object.assign(createGunzip(), { receivedEncodedLength: 0 });
  payload.on('data', (chunk: Buffer) => {
    gunzip.receivedEncodedLength += chunk.length;
  });
  payload.on('error', (err) => gunzip.destroy(err));
  // A corrupt stream is the client's fault: fastify answers a stream error with 400.
  payload.pipe(gunzip);
  return gunzip;
}
