/**
 * Removing directory trees that extraction made read-only.
 *
 * @module
 */

import { removeOnInterrupt } from "../interrupt.ts";
import { pausePoint } from "../pause_point.ts";
import { join } from "node:path";

/**
 * Remove a tree even where extracted directories are read-only; a missing
 * path is not an error.
 *
 * @example
 * ```ts
 * import { removeTree } from "./remove_tree.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/ro`, { mode: 0o555 });
 * await removeTree(dir);
 * ```
 */
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

/** Whether a process with this id exists (conservatively true where /proc is missing). */
export function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    try {
      Deno.statSync("/proc/self");
      return false;
    } catch {
      return true; // no /proc (macOS): never treat another process's files as stale
    }
  }
}

/** The pid recorded in a `<mark><pid>-<random>` name, or undefined. */
export function pidOf(name: string): number | undefined {
  const match = /-(\d+)-[0-9a-f]{8}$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** True when the entry was left by a process that is gone (or by an earlier us with our pid). */
export function leftByDeadProcess(name: string): boolean {
  const pid = pidOf(name);
  if (pid === undefined) return false;
  return pid === Deno.pid || !processAlive(pid);
}

/** `<pid>-<8 hex>`: names our temporary entries so that stale ones can be recognised. */
export function uniqueSuffix(): string {
  return `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Create `dir`, run `fill` on it, and remove it again if `fill` fails; the
 * caller then moves the filled directory into place (the "before-rename"
 * pause point sits between the two, for the kill tests).
 */
export async function fillNewDirectory<T>(
  dir: string,
  fill: (dir: string) => Promise<T>,
): Promise<T> {
  await Deno.mkdir(dir, { mode: 0o755 });
  // Only while filling: later the directory takes part in renames that recovery must see.
  const release = removeOnInterrupt(dir);
  let result: T;
  try {
    result = await fill(dir);
  } catch (e) {
    await removeTree(dir);
    throw e;
  } finally {
    release();
  }
  await pausePoint("before-rename");
  return result;
}
