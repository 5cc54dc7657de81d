/** Bounded concurrency: run `worker` over `items` with at most `concurrency` in flight. */

/**
 * Resolves when every started item has finished. Items are started in order; `shouldStop`
 * is checked before each start, so a stop halts the ramp without waiting for the rest.
 * A worker that throws rejects the whole run (after in-flight items finish).
 */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length && !shouldStop()) {
      const index = next++;
      await worker(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
}
