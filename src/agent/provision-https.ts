/**
 * One provisioning exchange over HTTPS: `POST {httpsUrl}/device/v1/provision` with the claim
 * certificate as TLS client certificate. The server answers 200 with an accepted
 * ProvisionResponse, or 4xx/5xx with a rejected one. Throws ProvisioningTransportError when no
 * answer arrives; the caller retries.
 */
import { request } from 'node:https';
import type { ProvisionRequest } from '../contracts/provisioning-messages.ts';
import type { Timers } from '../infra/timers.ts';
import { ProvisioningTransportError } from './provisioning-errors.ts';

/** Larger answers are not a ProvisionResponse; they are cut off rather than buffered, in bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpsClaimSession {
  /** `https://host:port`, optionally with a path prefix. */
  url: string;
  claim: { certPem: string; keyPem: string };
  caChainPem: string;
  /** Bound on the whole request, in milliseconds. */
  timeoutMs: number;
  timers: Timers;
  /** Ends the exchange early (the daemon is stopping). */
  signal?: AbortSignal | undefined;
}

/** Resolves with the HTTP status and the raw body (validated by the caller). */
export function exchangeOverHttps(
  session: HttpsClaimSession,
  body: ProvisionRequest,
): Promise<{ status: number; text: string }> {
  const base = session.url.endsWith('/') ? session.url : `${session.url}/`;
  const url = new URL('device/v1/provision', base);
  if (url.protocol !== 'https:') {
    return Promise.reject(new Error(`provisioning URL must use https://, got ${session.url}`));
  }
  const abort = new AbortController();
  const timer = session.timers.setTimeout(() => abort.abort(), session.timeoutMs);
  const signal = session.signal ? AbortSignal.any([abort.signal, session.signal]) : abort.signal;
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: session.caChainPem,
        cert: session.claim.certPem,
        key: session.claim.keyPem,
        rejectUnauthorized: true,
        headers: { 'content-type': 'application/json' },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new ProvisioningTransportError(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
          } else chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err) => reject(new ProvisioningTransportError(err.message)));
      },
    );
    req.on('error', (err) =>
      reject(
        err instanceof ProvisioningTransportError
          ? err
          : new ProvisioningTransportError(
              abort.signal.aborted ? `no response within ${session.timeoutMs} ms` : err.message,
            ),
      ),
    );
    req.end(JSON.stringify(body));
  }).finally(() => session.timers.clearTimeout(timer));
}
