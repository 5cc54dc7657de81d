/**
 * HTTPS GET with the device's client certificate (mTLS), used for TUF metadata, targets
 * (with `Range`) and minisign signatures. Plain http: URLs are accepted for local tests.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** PEM texts: the fleet CA chain that signed the server certificate, and the device's pair. */
export interface DeviceTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface GetOptions {
  /** Sends `Range: bytes=<rangeStart>-` when above 0. */
  rangeStart?: number;
  signal?: AbortSignal;
  /** Gives up when no response headers arrive within this many ms; default 30 000. */
  timeoutMs?: number;
  /** Extra request headers (e.g. If-None-Match for the offer poll). */
  headers?: Record<string, string>;
}

export type HttpGet = (url: string, options?: GetOptions) => Promise<IncomingMessage>;

/** A GET function bound to the device's TLS material; the caller consumes or destroys the body. */
export function createHttpGet(tls: DeviceTls | undefined): HttpGet {
  return (url, options = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.rangeStart !== undefined && options.rangeStart > 0)
        headers['range'] = `bytes=${options.rangeStart}-`;
      const common = { method: 'GET', headers, signal: options.signal, timeout: options.timeoutMs ?? 30_000 };
      const req = url.startsWith('https:')
        ? httpsRequest(url, { ...common, ca: tls?.caPem, cert: tls?.certPem, key: tls?.keyPem })
        : httpRequest(url, common);
      req.on('response', resolve);
      req.on('timeout', () => req.destroy(new Error(`no response from ${url}`)));
      req.on('error', reject);
      req.end();
    });
}

/** The whole body, refusing more than `maxBytes` (the response is destroyed at the cap). */
export async function readBody(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      res.destroy();
      throw new BodyTooLargeError(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class BodyTooLargeError extends Error {}
