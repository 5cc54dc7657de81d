/**
 * Batched look-ups by id: a list of any length is read in chunks of `ID_BATCH_SIZE`, one query
 * each, so a tick over a 100,000-device rollout costs a few hundred queries, not one per device,
 * and no statement grows with the fleet.
 */
export const ID_BATCH_SIZE = 500;

/** `ids` without duplicates, in chunks of at most `size`. */
export function idBatches(ids: Iterable<string>, size = ID_BATCH_SIZE): string[][] {
  const unique = [...new Set(ids)];
  const batches: string[][] = [];
  for (let start = 0; start < unique.length; start += size) batches.push(unique.slice(start, start + size));
  return batches;
}
