/**
 * Uploads a log bundle: `PUT /device/v1/jobs/{executionId}/logs` with the device certificate
 * (mTLS, as telemetry uploads do), body the gzip bundle. Plain http: URLs are accepted for tests.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readBody, type DeviceTls } from '../update/transport.ts';

export type LogUploader = (executionId: string, bundle: Buffer) => Promise<void>;

export function httpsLogUploader(options: {
  deviceHttpUrl: string;
  tls: DeviceTls | undefined;
  timeoutMs?: number;
}): LogUploader {
  const base = options.deviceHttpUrl.replace(/\/$/, '');
  return async (executionId, bundle) => {
    const url = `${base}/device/v1/jobs/${encodeURIComponent(executionId)}/logs`;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const common = {
        method: 'PUT',
        headers: { 'content-type': 'application/gzip', 'content-length': String(bundle.length) },
        timeout: options.timeoutMs ?? 60_000,
      };
      const tls = options.tls;
      const req = url.startsWith('https:')
        ? httpsRequest(url, { ...common, ca: tls?.caPem, cert: tls?.certPem, key: tls?.keyPem })
        : httpRequest(url, common);
      req.on('response', resolve);
      req.on('timeout', () => req.destroy(new Error(`no response from ${url}`)));
      req.on('error', reject);
      req.end(bundle);
    });
    const text = await readBody(res, 64 * 1024);
    if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) {
      throw new Error(`PUT ${url} answered ${res.statusCode}: ${text.toString('utf8').slice(0, 200)}`);
    }
  };
}
