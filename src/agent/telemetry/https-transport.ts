/**
 * Telemetry as HTTPS uploads, for devices that wake, send and sleep: `POST /device/v1/telemetry`
 * with the device certificate (mTLS, as for update downloads), a gzip-compressed
 * `{"batches": [...]}` of up to TELEMETRY_LIMITS.batchesPerUpload batches and at most
 * TELEMETRY_LIMITS.uploadBytes of JSON, answered by `{"acks": [...]}`. Plain http: URLs are
 * accepted for local tests.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  TELEMETRY_LIMITS,
  telemetryUploadResponseSchema,
  type TelemetryAck,
  type TelemetryBatch,
} from '../../contracts/telemetry-messages.ts';
import { parseJsonPayload } from '../inbound.ts';
import { readBody, type DeviceTls } from '../update/transport.ts';
import type { TelemetryTransport } from './sender.ts';

const gzipAsync = promisify(gzip);

export interface HttpsTransportOptions {
  /** `https://host:port` of the device API. */
  deviceHttpUrl: string;
  tls: DeviceTls | undefined;
  /** Gives up on an upload after this many ms; default 30 000. */
  timeoutMs?: number;
}

/** Largest answer read, in bytes (100 acks with their rejections fit easily). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export function httpsTransport(options: HttpsTransportOptions): TelemetryTransport {
  const url = `${options.deviceHttpUrl.replace(/\/$/, '')}/device/v1/telemetry`;
  return {
    maxPerSend: TELEMETRY_LIMITS.batchesPerUpload,
    ready: () => true,
    async send(batches) {
      const acks: TelemetryAck[] = [];
      for (const group of uploadGroups(batches)) acks.push(...(await upload(url, group, options)));
      return { acks, final: true };
    },
  };
}

/** Splits batches into uploads within the body limit (JSON bytes before compression). */
export function uploadGroups(batches: readonly TelemetryBatch[]): TelemetryBatch[][] {
  const budget = TELEMETRY_LIMITS.uploadBytes - 64;
  const groups: TelemetryBatch[][] = [];
  let current: TelemetryBatch[] = [];
  let bytes = 0;
  for (const batch of batches) {
    const size = Buffer.byteLength(JSON.stringify(batch)) + 1;
    if (
      current.length > 0 &&
      (bytes + size > budget || current.length >= TELEMETRY_LIMITS.batchesPerUpload)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(batch);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

async function upload(
  url: string,
  batches: TelemetryBatch[],
  options: HttpsTransportOptions,
): Promise<TelemetryAck[]> {
  const body = await gzipAsync(Buffer.from(JSON.stringify({ batches })));
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const common = {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': String(body.length),
      },
      timeout: options.timeoutMs ?? 30_000,
    };
    const tls = options.tls;
    const req = url.startsWith('https:')
      ? httpsRequest(url, { ...common, ca: tls?.caPem, cert: tls?.certPem, key: tls?.keyPem })
      : httpRequest(url, common);
    req.on('response', resolve);
    req.on('timeout', () => req.destroy(new Error(`no response from ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
  const text = await readBody(res, MAX_RESPONSE_BYTES);
  if (res.statusCode !== 200) {
    throw new Error(
      `POST /device/v1/telemetry answered ${res.statusCode}: ${text.toString('utf8').slice(0, 200)}`,
    );
  }
  const parsed = parseJsonPayload(telemetryUploadResponseSchema, text);
  if (!parsed.ok) throw new Error(`invalid telemetry upload response: ${parsed.reason}`);
  return parsed.value.acks;
}
