/**
 * Replacing an output directory atomically: content is written into a fresh
 * temporary directory next to the target and renamed over it only when the
 * pull succeeded, so a failed or killed pull leaves the target as it was.
 *
 * Replacing takes two renames (target → old, temp → target), because Linux
 * `rename` will not replace a non-empty directory. A kill between them
 * leaves the previous content under `.NAME.artifact-cli-old-*`; the next
 * pull into the same directory puts it back first ({@link recoverInterrupted}).
 * Every temporary entry is announced first by an owner record
 * (owner_marks.ts); recovery acts only on entries their record proves ours.
 *
 * A mount point cannot be renamed at all; it is filled in place instead
 * (see in_place.ts).
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { ArtifactError } from "../errors.ts";
import { pausePoint } from "../pause_point.ts";
import { isMountPoint, recoverInPlace, replaceInPlace } from "./in_place.ts";
import { checkOutputTarget, type OutputGuardOptions, rememberOutput } from "./output_guard.ts";
import { isOurDirectory, OwnerMark } from "./owner_marks.ts";
import { fillNewDirectory, leftByDeadProcess, removeTree, uniqueSuffix } from "./remove_tree.ts";

export { removeTree } from "./remove_tree.ts";
export { checkOutputTarget } from "./output_guard.ts";

const TEMP_MARK = ".artifact-cli-tmp-";
const OLD_MARK = ".artifact-cli-old-";
const STATE = /\.artifact-cli-(tmp|old|owner)-(\d+-[0-9a-f]{8})$/;

/** Options for {@link replaceDirectory}. */
export interface ReplaceOptions extends OutputGuardOptions {
  /** Record the result as a pull's output (default true; false for internal scratch). */
  remember?: boolean;
}

/**
 * Run `fill` on an empty temporary directory, then make that directory
 * `outDir` (replacing what was there). On any failure the temporary
 * directory is removed and `outDir` is untouched. A non-empty `outDir` that
 * no earlier pull wrote is refused unless `force` (see output_guard.ts).
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
  options: ReplaceOptions = {},
): Promise<T> {
  const target = resolve(outDir);
  const parent = dirname(target);
  const name = basename(target);
  await Deno.mkdir(parent, { recursive: true });
  await recoverInterrupted(target);
  await checkOutputTarget(outDir, options);
  const info = await Deno.lstat(target).catch(() => undefined);
  const remember = (from = target) =>
    options.remember === false ? Promise.resolve() : rememberOutput(target, from);
  if (info && await isMountPoint(target)) {
    const result = await replaceInPlace(target, fill);
    await remember();
    return result;
  }

  const id = uniqueSuffix();
  const mark = await OwnerMark.create(parent, `.${name}`, id);
  try {
    const temp = join(parent, `.${name}${TEMP_MARK}${id}`);
    const result = await fillNewDirectory(temp, fill);
    mark.keepOnInterrupt();
    await remember(temp);
    if (!info) {
      await renameOrExplain(temp, target, outDir, temp);
      return result;
    }
    const old = join(parent, `.${name}${OLD_MARK}${id}`);
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
  } finally {
    await mark.remove();
  }
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

/**
 * Remove leftovers of pulls into the same target that were killed: temp
 * directories of dead processes, and a displaced old copy (restored if the
 * target itself is missing, i.e. the kill landed between the two renames).
 * Only entries that are real directories we own, with an owner record we
 * wrote, are touched.
 */
async function cleanupStale(parent: string, name: string): Promise<void> {
  const prefix = `.${name}`;
  const byId = new Map<string, Set<string>>();
  try {
    for await (const entry of Deno.readDir(parent)) {
      if (!entry.name.startsWith(prefix)) continue;
      const match = STATE.exec(entry.name);
      if (!match || entry.name !== `${prefix}.artifact-cli-${match[1]}-${match[2]}`) continue;
      if (!leftByDeadProcess(entry.name)) continue;
      if (match[1] !== "owner" && !await isOurDirectory(join(parent, entry.name))) continue;
      const kinds = byId.get(match[2]) ?? new Set();
      kinds.add(match[1]);
      byId.set(match[2], kinds);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const [id, kinds] of [...byId].sort(([a], [b]) => a.localeCompare(b))) {
    if (!await OwnerMark.verify(parent, prefix, id)) continue;
    const old = join(parent, `${prefix}${OLD_MARK}${id}`);
    const targetExists = await Deno.lstat(join(parent, name)).then(() => true, () => false);
    if (kinds.has("old") && !targetExists) await Deno.rename(old, join(parent, name));
    else if (kinds.has("old")) await removeTree(old);
    if (kinds.has("tmp")) await removeTree(join(parent, `${prefix}${TEMP_MARK}${id}`));
    await OwnerMark.removeFor(parent, prefix, id);
  }
}
