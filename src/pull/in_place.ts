/**
 * Replacing the content of an output directory that is a mount point (a
 * container volume, a tmpfs, a bind mount), which cannot itself be renamed.
 *
 * The new content is extracted into a temporary directory inside the mount,
 * so every later move is a same-file-system rename. Then, in two phases:
 *   A. each current entry is moved into `.artifact-cli-old-ID/`;
 *   B. the temporary directory is renamed `.artifact-cli-new-ID` (the marker
 *      that phase A is complete) and each of its entries is moved up.
 * Each move is atomic, the whole swap is not: a reader may see a mix while
 * it runs. A pull killed part-way is repaired by the next pull: before
 * phase B completes it rolls back (old entries return, the new ones are
 * dropped), once phase B has begun it rolls forward. Repair acts only on
 * entries the owner record proves ours (owner_marks.ts).
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { pausePoint } from "../pause_point.ts";
import { isOurDirectory, OwnerMark } from "./owner_marks.ts";
import { fillNewDirectory, leftByDeadProcess, removeTree, uniqueSuffix } from "./remove_tree.ts";

const TMP = ".artifact-cli-tmp-";
const OLD = ".artifact-cli-old-";
const NEW = ".artifact-cli-new-";
const OURS = /^\.artifact-cli-(tmp|old|new|owner)-(\d+-[0-9a-f]{8})$/;

/**
 * True when `dir` is a mount point: on another device than its parent, or
 * listed in /proc/self/mountinfo (bind mounts of the same file system).
 */
export async function isMountPoint(dir: string): Promise<boolean> {
  const path = await Deno.realPath(dir);
  const parent = dirname(path);
  if (parent === path) return true;
  const [self, up] = await Promise.all([Deno.stat(path), Deno.stat(parent)]);
  if (self.dev !== up.dev) return true;
  return (await mountPoints()).includes(path);
}

/** Every mount point of this process (empty where /proc/self/mountinfo is missing). */
export async function mountPoints(): Promise<string[]> {
  let mountinfo: string;
  try {
    mountinfo = await Deno.readTextFile("/proc/self/mountinfo");
  } catch {
    return []; // not Linux: the device check is all there is
  }
  return mountinfo.split("\n").filter((line) => line !== "").map((line) =>
    unescapeMountPath(line.split(" ")[4] ?? "")
  );
}

/** mountinfo escapes space, tab, newline and backslash as `\ooo`. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * Fill a temporary directory inside `target` with `fill`, then swap the new
 * entries for the old ones. On a failure of `fill` the target is untouched.
 */
export async function replaceInPlace<T>(
  target: string,
  fill: (tempDir: string) => Promise<T>,
): Promise<T> {
  const id = uniqueSuffix();
  const mark = await OwnerMark.create(target, "", id);
  const temp = join(target, `${TMP}${id}`);
  let result: T;
  try {
    result = await fillNewDirectory(temp, fill);
  } catch (e) {
    await mark.remove();
    throw e;
  }
  mark.keepOnInterrupt();
  const old = join(target, `${OLD}${id}`);
  await Deno.mkdir(old, { mode: 0o700 });
  let moved = 0;
  for (const name of await entriesOf(target)) {
    if (OURS.test(name)) continue;
    await Deno.rename(join(target, name), join(old, name));
    if (++moved === 1) await pausePoint("swap-old-aside");
  }
  const next = join(target, `${NEW}${id}`);
  await Deno.rename(temp, next);
  await moveUp(next, target, true);
  await removeTree(old);
  await mark.remove();
  return result;
}

/** Move every entry of `from` into `to`, then remove `from`. */
async function moveUp(from: string, to: string, pause = false): Promise<void> {
  let moved = 0;
  for (const name of await entriesOf(from)) {
    await Deno.rename(join(from, name), join(to, name));
    if (pause && ++moved === 1) await pausePoint("swap-new-in");
  }
  await Deno.remove(from);
}

/**
 * Repair what a killed in-place swap left in `target`. Entries are acted on
 * only when the owner record proves them ours; anything else with a name of
 * our pattern (a file, a link, another user's directory) is left alone.
 */
export async function recoverInPlace(target: string): Promise<void> {
  const dir = resolve(target);
  const stale = new Map<string, Set<string>>(); // id -> kinds present
  for (const name of await entriesOf(dir)) {
    const match = OURS.exec(name);
    if (!match || !leftByDeadProcess(name)) continue;
    // A record alone (killed before its first directory) is verified and removed below.
    if (match[1] !== "owner" && !await isOurDirectory(join(dir, name))) continue;
    const kinds = stale.get(match[2]) ?? new Set();
    kinds.add(match[1]);
    stale.set(match[2], kinds);
  }
  for (const [id, kinds] of stale) {
    if (!await OwnerMark.verify(dir, "", id)) continue;
    const old = join(dir, `${OLD}${id}`);
    if (kinds.has("new")) {
      // Phase B had begun: the new content is complete; finish moving it.
      await moveUp(join(dir, `${NEW}${id}`), dir);
      await removeTree(old);
    } else if (kinds.has("old")) {
      // Phase A or the extraction itself was interrupted: put the old entries back.
      if (kinds.has("tmp")) await moveUp(old, dir);
      else await removeTree(old); // phase B finished; only the cleanup was cut short
    }
    await removeTree(join(dir, `${TMP}${id}`));
    await OwnerMark.removeFor(dir, "", id);
  }
}

async function entriesOf(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}
