/** Keeps a report within the protocol's limits (job-messages.ts): result ≤ 16 KiB, message ≤ 1 KiB. Pure. */

/** Largest serialised result, in characters (the schema's 16 KiB, with room for the envelope). */
export const MAX_RESULT_CHARS = 16_000;
export const MAX_MESSAGE_CHARS = 1024;

export function capResult(
  result: Record<string, unknown> | undefined,
  message: string | undefined,
): { result?: Record<string, unknown>; message?: string } {
  const out: { result?: Record<string, unknown>; message?: string } = {};
  if (message !== undefined) out.message = message.slice(0, MAX_MESSAGE_CHARS);
  if (result !== undefined) {
    const size = JSON.stringify(result).length;
    out.result = size <= MAX_RESULT_CHARS ? result : { truncated: true, resultChars: size };
  }
  return out;
}
