/**
 * Replacing an output directory atomically: content is written into a fresh
 * temporary directory next to the target and renamed over it only when the
 * pull succeeded, so a failed or killed pull leaves the target as it was.
 *
 * Replacing takes two renames (target → old, temp → target), because Linux
 * `rename` will not replace a non-empty directory. A kill between them
 * leaves the previous content under `.NAME.artifact-cli-old-*`; the next
 * pull into the same directory puts it back first ({@link recoverInterrupted}).
 *
 * A mount point cannot be renamed at all; it is filled in place instead
 * (see in_place.ts).
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { ArtifactError, UsageError } from "../errors.ts";
import { pausePoint } from "../pause_point.ts";
import { isMountPoint, recoverInPlace, replaceInPlace } from "./in_place.ts";
import { fillNewDirectory, leftByDeadProcess, removeTree, uniqueSuffix } from "./remove_tree.ts";

export { removeTree } from "./remove_tree.ts";

const TEMP_MARK = ".artifact-cli-tmp-";
const OLD_MARK = ".artifact-cli-old-";

/**
 * Run `fill` on an empty temporary directory, then make that directory
 * `outDir` (replacing what was there). On any failure the temporary
 * directory is removed and `outDir` is untouched.
 *
 * @example
 * ```ts
 * import { replaceDirectory } from "./atomic_output.ts";
 * const parent = await Deno.makeTempDir();
 * await replaceDirectory(`${parent}/out`, async (dir) => {
 *   await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * });
 * console.assert(Deno.readTextFileSync(`${parent}/out/a.txt`) === "a");
 * ```
 */
export async function replaceDirectory<T>(
  outDir: string,
  fill: (tempDir: string) => Promise<T>,
): Promise<T> {
  const target = resolve(outDir);
  refuseDangerousTarget(target);
  const parent = dirname(target);
  const name = basename(target);
  await Deno.mkdir(parent, { recursive: true });
  await recoverInterrupted(target);
  const info = await Deno.lstat(target).catch(() => undefined);
  if (info && !info.isDirectory) {
    throw new UsageError(`${outDir} exists and is not a directory`);
  }
  if (info && await isMountPoint(target)) return await replaceInPlace(target, fill);

  const temp = join(parent, `.${name}${TEMP_MARK}${uniqueSuffix()}`);
  const result = await fillNewDirectory(temp, fill);
  if (!info) {
    await renameOrExplain(temp, target, outDir, temp);
    return result;
  }
  const old = join(parent, `.${name}${OLD_MARK}${uniqueSuffix()}`);
  await renameOrExplain(target, old, outDir, temp);
  await pausePoint("between-renames");
  try {
    await Deno.rename(temp, target);
  } catch (e) {
    await Deno.rename(old, target);
    await removeTree(temp);
    throw e;
  }
  await pausePoint("after-rename");
  await removeTree(old);
  return result;
}

/**
 * Undo what a killed pull into `outDir` left behind: restore the previous
 * content if the kill landed between the two renames, and remove temporary
 * directories of processes that no longer run. Pull calls this before
 * anything else, so that even a pull that then fails repairs the output.
 */
export async function recoverInterrupted(outDir: string): Promise<void> {
  const target = resolve(outDir);
  const parent = dirname(target);
  const name = basename(target);
  await cleanupStale(parent, name);
  const info = await Deno.lstat(target).catch(() => undefined);
  if (info?.isDirectory) await recoverInPlace(target);
}

/** A rename that fails for a reason the user can act on gets a clear message. */
async function renameOrExplain(from: string, to: string, outDir: string, temp: string) {
  try {
    await Deno.rename(from, to);
  } catch (e) {
    await removeTree(temp);
    const code = (e as { code?: string }).code;
    if (code === "EBUSY" || code === "EXDEV" || e instanceof Deno.errors.Busy) {
      throw new ArtifactError(
        `cannot replace ${outDir}: it is in use or on another file system than its parent ` +
          `(${(e as Error).message}); pull into a new directory instead`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** Never replace `/`, the home directory, or a directory holding the cwd. */
function refuseDangerousTarget(target: string): void {
  const home = Deno.env.get("HOME");
  const cwd = Deno.cwd();
  if (dirname(target) === target || (home && resolve(home) === target)) {
    throw new UsageError(`refusing to replace ${target}; pull into a subdirectory`);
  }
  if (cwd === target || cwd.startsWith(`${target}/`)) {
    throw new UsageError(
      `refusing to replace ${target}: it contains the current directory; pull into a subdirectory`,
    );
  }
}

/**
 * Remove leftovers of pulls into the same target that were killed: temp
 * directories of dead processes, and a displaced old copy (restored if the
 * target itself is missing, i.e. the kill landed between the two renames).
 */
async function cleanupStale(parent: string, name: string): Promise<void> {
  const prefixTemp = `.${name}${TEMP_MARK}`;
  const prefixOld = `.${name}${OLD_MARK}`;
  const entries: string[] = [];
  try {
    for await (const entry of Deno.readDir(parent)) {
      if (entry.name.startsWith(prefixTemp) || entry.name.startsWith(prefixOld)) {
        entries.push(entry.name);
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const entry of entries.sort()) {
    if (!leftByDeadProcess(entry)) continue;
    const path = join(parent, entry);
    const targetExists = await Deno.lstat(join(parent, name)).then(() => true, () => false);
    if (entry.startsWith(prefixOld) && !targetExists) {
      await Deno.rename(path, join(parent, name));
      continue;
    }
    await removeTree(path);
  }
}
