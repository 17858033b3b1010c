/**
 * Progress of packing and compressing a tree, which otherwise runs for
 * seconds with nothing on the screen: tar bytes packed of the tree's total.
 *
 * @module
 */

import type { TreeEntry } from "../archive/tree_list.ts";
import type { Progress } from "../ui/progress.ts";

const BLOCK = 512;

/** The callbacks {@link packingProgress} gives a layer build. */
export interface PackingProgress {
  /** `buildTarLayer`'s onProgress: tar bytes packed so far. */
  onProgress(packed: number): void;
  done(): void;
}

/**
 * A progress task "packing N files" for `entries` (iterated once here, for
 * the count and the tar bytes they take without the PAX records long names need).
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
  entries: Iterable<TreeEntry>,
  what = "",
): PackingProgress {
  let files = 0;
  let total = 2 * BLOCK;
  for (const entry of entries) {
    if (entry.type === "file") files++;
    total += BLOCK + Math.ceil(entry.size / BLOCK) * BLOCK;
  }
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
