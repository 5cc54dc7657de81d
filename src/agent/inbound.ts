/** Validates what the server sends the device (STYLE: validate at every trust boundary). Pure. */
import { rejectedSchema, type Rejected } from '../contracts/device-messages.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses a `fl/d/{id}/rejected` payload: UTF-8 JSON matching rejectedSchema. */
export function parseRejected(payload: Uint8Array): ParseResult<Rejected> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const result = rejectedSchema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const reason = result.error.issues
    .map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason };
}
