/** Decodes and validates a device → cloud payload against its topic's schema. Pure. */
import {
  deviceToCloudSchemas,
  type DeviceToCloudMessage,
  type Rejected,
} from '../contracts/device-messages.ts';
import { MAX_PAYLOAD_BYTES, type DeviceToCloudSuffix } from '../contracts/topics.ts';

export type DecodeResult =
  { ok: true; message: DeviceToCloudMessage } | { ok: false; code: Rejected['code']; message: string };

/** The payload as JSON, refusing oversized and unparsable ones (any device topic). */
export function parseJsonPayload(
  payload: Buffer,
): { ok: true; json: unknown } | { ok: false; code: Rejected['code']; message: string } {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      code: 'payload_too_large',
      message: `payload is ${payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`,
    };
  }
  try {
    return { ok: true, json: JSON.parse(payload.toString('utf8')) as unknown };
  } catch (err) {
    return {
      ok: false,
      code: 'malformed_payload',
      message: `payload is not JSON: ${(err as Error).message}`,
    };
  }
}

export function decodeDeviceMessage(suffix: DeviceToCloudSuffix, payload: Buffer): DecodeResult {
  const parsedJson = parseJsonPayload(payload);
  if (!parsedJson.ok) return parsedJson;
  const parsed = deviceToCloudSchemas[suffix].safeParse(parsedJson.json);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`)
      .join('; ');
    return { ok: false, code: 'malformed_payload', message: `${suffix} payload is invalid: ${detail}` };
  }
  // The schema map is keyed by suffix, so the pairing below is correct by construction.
  return { ok: true, message: { suffix, payload: parsed.data } as DeviceToCloudMessage };
}
