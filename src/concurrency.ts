/**
 * Bounded concurrency for transfers (blobs, manifests, platforms).
 *
 * @module
 */

/** Default number of blobs or manifests transferred at once (`--concurrency`). */
export const DEFAULT_CONCURRENCY = 4;

/**
 * Run `fn` over `items` with at most `limit` calls in flight; results keep
 * the order of `items`. The first failure rejects the whole call once the
 * calls already running have settled (no new ones start after it).
 *
 * @example
 * ```ts
 * import { mapConcurrent } from "./concurrency.ts";
 * const squares = await mapConcurrent([1, 2, 3], 2, (n) => Promise.resolve(n * n));
 * console.assert(squares.join() === "1,4,9");
 * ```
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let failure: unknown;
  const runner = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (e) {
        if (!failed) failure = e;
        failed = true;
      }
    }
  };
  const runners = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, runner);
  await Promise.all(runners);
  if (failed) throw failure;
  return results;
}
