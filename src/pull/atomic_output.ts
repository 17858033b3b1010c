/**
 * Replacing an output directory atomically: content is written into a fresh
 * temporary directory next to the target and renamed over it only when the
 * pull succeeded, so a failed or killed pull leaves the target as it was.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";

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
  await cleanupStale(parent, name);
  const info = await Deno.lstat(target).catch(() => undefined);
  if (info && !info.isDirectory) {
    throw new UsageError(`${outDir} exists and is not a directory`);
  }
  const temp = join(parent, `.${name}${TEMP_MARK}${Deno.pid}-${randomSuffix()}`);
  await Deno.mkdir(temp, { mode: 0o755 });
  let result: T;
  try {
    result = await fill(temp);
  } catch (e) {
    await removeTree(temp);
    throw e;
  }
  if (!info) {
    await Deno.rename(temp, target);
    return result;
  }
  const old = join(parent, `.${name}${OLD_MARK}${Deno.pid}-${randomSuffix()}`);
  await Deno.rename(target, old);
  try {
    await Deno.rename(temp, target);
  } catch (e) {
    await Deno.rename(old, target);
    await removeTree(temp);
    throw e;
  }
  await removeTree(old);
  return result;
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
  for await (const entry of Deno.readDir(parent)) {
    if (entry.name.startsWith(prefixTemp) || entry.name.startsWith(prefixOld)) {
      entries.push(entry.name);
    }
  }
  if (entries.length === 0) return;
  const targetExists = await Deno.lstat(join(parent, name)).then(() => true, () => false);
  for (const entry of entries) {
    const pid = Number(entry.split("-").at(-2));
    if (Number.isInteger(pid) && pid !== Deno.pid && processAlive(pid)) continue;
    const path = join(parent, entry);
    if (entry.startsWith(prefixOld) && !targetExists) {
      await Deno.rename(path, join(parent, name));
      continue;
    }
    await removeTree(path);
  }
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Remove a tree even where extracted directories are read-only. */
export async function removeTree(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    makeOwnerWritable(path);
    await Deno.remove(path, { recursive: true });
  }
}

function makeOwnerWritable(path: string): void {
  const info = Deno.lstatSync(path);
  if (!info.isDirectory) return;
  Deno.chmodSync(path, (info.mode! & 0o7777) | 0o700);
  for (const entry of Deno.readDirSync(path)) {
    if (entry.isDirectory) makeOwnerWritable(join(path, entry.name));
  }
}

function randomSuffix(): string {
  return crypto.randomUUID().slice(0, 8);
}
