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

/**
 * A gate letting at most `n` tasks run at once, for work discovered while
 * it runs (a graph walk), where {@link mapConcurrent}'s fixed list does not
 * fit. Tasks wait in arrival order. A task must not wait, while it runs, for
 * another task of the same gate: with every slot held by such waiters
 * nothing could start again.
 *
 * @example
 * ```ts
 * import { limiter } from "./concurrency.ts";
 * const limit = limiter(2);
 * let running = 0, peak = 0;
 * const task = async () => {
 *   peak = Math.max(peak, ++running);
 *   await new Promise((r) => setTimeout(r, 1));
 *   running--;
 * };
 * await Promise.all([1, 2, 3, 4].map(() => limit(task)));
 * console.assert(peak === 2);
 * ```
 */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    if (active >= n) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        // A task that throws synchronously still frees its slot.
        Promise.resolve().then(task).then(resolve, reject).finally(() => {
          active--;
          next();
        });
      });
      next();
    });
}
