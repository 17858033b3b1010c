/**
 * Writing small files so that readers see the old or the new content, never
 * a torn one: write a temp file next to the target, then rename over it.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/**
 * Replace `path` with `bytes` atomically.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.json`, new TextEncoder().encode("{}"));
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  mode = 0o644,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${crypto.randomUUID()}`);
  try {
    await Deno.writeFile(temp, bytes, { mode, createNew: true });
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}
