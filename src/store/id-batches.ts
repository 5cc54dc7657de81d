/**
 * Batched look-ups by id: a list of any length is read in chunks of `ID_BATCH_SIZE`, one query
 * each, so a tick over a 100,000-device rollout costs a few hundred queries, not one per device,
 * and no statement grows with the fleet.
 */
export const ID_BATCH_SIZE = 500;

/** `items` in order, in chunks of at most `size`. */
export function chunked<T>(items: readonly T[], size = ID_BATCH_SIZE): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** `ids` without duplicates, in chunks of at most `size`. */
export function idBatches(ids: Iterable<string>, size = ID_BATCH_SIZE): string[][] {
  return chunked([...new Set(ids)], size);
}
