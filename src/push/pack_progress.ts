/**
 * Progress of packing and compressing a tree, which otherwise runs for
 * seconds with nothing on the screen: tar bytes packed of the tree's total.
 *
 * @module
 */

import type { TreeEntry } from "../archive/walk.ts";
import type { Progress } from "../ui/progress.ts";

const BLOCK = 512;

/** Tar bytes `entries` will take, without the PAX records long names need. */
export function estimatedTarSize(entries: readonly TreeEntry[]): number {
  let total = 2 * BLOCK;
  for (const entry of entries) total += BLOCK + Math.ceil(entry.size / BLOCK) * BLOCK;
  return total;
}

/** The callbacks {@link packingProgress} gives a layer build. */
export interface PackingProgress {
  /** `buildTarLayer`'s onProgress: tar bytes packed so far. */
  onProgress(packed: number): void;
  done(): void;
}

/**
 * A progress task "packing N files" for `entries`.
 *
 * @example
 * ```ts
 * import { NO_PROGRESS } from "../ui/progress.ts";
 * import { packingProgress } from "./pack_progress.ts";
 * const packing = packingProgress(NO_PROGRESS, []);
 * packing.onProgress(1024);
 * packing.done();
 * ```
 */
export function packingProgress(
  progress: Progress | undefined,
  entries: readonly TreeEntry[],
  what = "",
): PackingProgress {
  const files = entries.filter((e) => e.type === "file").length;
  const total = estimatedTarSize(entries);
  const task = progress?.task(`packing ${files} files${what ? ` of ${what}` : ""}`, total);
  let counted = 0;
  return {
    onProgress(packed) {
      // PAX records can take the count past the estimate; the bar stops at the total.
      const next = Math.min(packed, total);
      task?.add(next - counted);
      counted = next;
    },
    done() {
      task?.add(total - counted);
      task?.done();
    },
  };
}
