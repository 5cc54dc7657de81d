/** Validates what the server sends the device (STYLE: validate at every trust boundary). Pure. */
import type { z } from 'zod';
import { rejectedSchema, type Rejected } from '../contracts/device-messages.ts';
import { updateNotifySchema, type UpdateNotify } from '../contracts/update-messages.ts';
import { telemetryAckSchema, type TelemetryAck } from '../contracts/telemetry-messages.ts';
import { jobNotifySchema, type JobNotify } from '../contracts/job-messages.ts';
import { configDesiredSchema, type ConfigDesired } from '../contracts/config-messages.ts';
import { provisionResponseSchema, type ProvisionResponse } from '../contracts/provisioning-messages.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses UTF-8 JSON against `schema`; the reason names the failing fields. */
export function parseJsonPayload<T>(schema: z.ZodType<T>, payload: Uint8Array | string): ParseResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const reason = result.error.issues
    .map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason };
}

/** Parses a `fl/d/{id}/rejected` payload: UTF-8 JSON matching rejectedSchema. */
export function parseRejected(payload: Uint8Array): ParseResult<Rejected> {
  return parseJsonPayload(rejectedSchema, payload);
}

/** Parses a ProvisionResponse (provisioning over MQTT or HTTPS, and `certificate/issued`). */
export function parseProvisionResponse(payload: Uint8Array | string): ParseResult<ProvisionResponse> {
  return parseJsonPayload(provisionResponseSchema, payload);
}

/** Parses a `fl/d/{id}/update/notify` payload. */
export function parseUpdateNotify(payload: Uint8Array): ParseResult<UpdateNotify> {
  return parseJsonPayload(updateNotifySchema, payload);
}

/** Parses a `fl/d/{id}/telemetry/ack` payload. */
export function parseTelemetryAck(payload: Uint8Array): ParseResult<TelemetryAck> {
  return parseJsonPayload(telemetryAckSchema, payload);
}

/** Parses a `fl/d/{id}/jobs/notify` payload. */
export function parseJobNotify(payload: Uint8Array): ParseResult<JobNotify> {
  return parseJsonPayload(jobNotifySchema, payload);
}

/** Parses a `fl/d/{id}/config/desired` payload (the values are checked against the schema later). */
export function parseConfigDesired(payload: Uint8Array): ParseResult<ConfigDesired> {
  return parseJsonPayload(configDesiredSchema, payload);
}
