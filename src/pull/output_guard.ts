/**
 * Which directories a pull may replace.
 *
 * A pull replaces its output directory whole, so it must never replace a
 * directory holding someone's files. It may replace: a directory that does
 * not exist, an empty one, one that an earlier pull of this tool wrote
 * (remembered outside the tree, by real path and inode), or any other with
 * `--force`. It never replaces `/`, `$HOME`, an ancestor of `$HOME` or of
 * the current directory, or a directory with a mount point inside.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../layout/atomic.ts";
import { cacheDir } from "../registry/blob_locations.ts";
import { mountPoints } from "./in_place.ts";

const RECORD_LIMIT = 8192;
const MAX_INODES = 4;

/** Options for {@link checkOutputTarget}. */
export interface OutputGuardOptions {
  /** Replace a non-empty directory that no earlier pull wrote. */
  force?: boolean;
}

/**
 * Throw a usage error (exit 2) when a pull must not replace `outDir`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutputTarget } from "./output_guard.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/mine.txt`, "mine");
 * await assert.rejects(() => checkOutputTarget(dir), /--force/);
 * await checkOutputTarget(dir, { force: true });
 * ```
 */
export async function checkOutputTarget(
  outDir: string,
  options: OutputGuardOptions = {},
): Promise<void> {
  const target = resolve(outDir);
  const info = await Deno.lstat(target).catch(() => undefined);
  const real = info ? await Deno.realPath(target) : target;
  await refuseProtected(outDir, [...new Set([target, real])]);
  if (!info) return;
  if (!info.isDirectory) throw new UsageError(`${outDir} exists and is not a directory`);
  if (options.force || await isEmpty(target) || await isEarlierOutput(target)) return;
  throw new UsageError(
    `${outDir} is not empty and was not written by an earlier pull; ` +
      `pull into a new or empty directory, or pass --force to replace its content`,
  );
}

/**
 * Remember that a pull wrote `outDir`. `contentDir` is the directory that
 * is or is about to become `outDir` (a temp directory renamed over it keeps
 * its inode), so a pull killed right after the rename is still recognised.
 */
export async function rememberOutput(outDir: string, contentDir = outDir): Promise<void> {
  const target = resolve(outDir);
  const real = join(await Deno.realPath(resolve(target, "..")), basename(target));
  const info = await Deno.stat(contentDir);
  // The previous inode stays listed: a pull killed between its renames restores it.
  const known = (await recordedInodes(real)).filter((i) => !sameDirectory(i, info));
  const inodes = [identityOf(info), ...known].slice(0, MAX_INODES);
  const record = JSON.stringify({ path: real, inodes }) + "\n";
  for (const dir of recordDirs()) {
    try {
      await ensurePrivateDir(dir);
      await writeFileAtomic(join(dir, recordName(real)), new TextEncoder().encode(record));
      return;
    } catch {
      // An unwritable cache (a read-only home in a container): try the next place.
    }
  }
}

/** True when an earlier pull's record names this very directory (path and inode). */
export async function isEarlierOutput(outDir: string): Promise<boolean> {
  const real = await Deno.realPath(outDir);
  const info = await Deno.stat(real);
  return (await recordedInodes(real)).some((i) => sameDirectory(i, info));
}

interface Inode {
  dev: number;
  ino: number | null;
  /**
   * Birth time in ms, where the file system records it: a directory made
   * later at the same path may get a freed inode number back, but not the
   * birth time of the one we wrote.
   */
  born?: number;
}

function identityOf(info: Deno.FileInfo): Inode {
  const id: Inode = { dev: info.dev, ino: info.ino };
  if (info.birthtime) id.born = info.birthtime.getTime();
  return id;
}

function sameDirectory(recorded: Inode, info: Deno.FileInfo): boolean {
  if (recorded.dev !== info.dev || recorded.ino !== info.ino) return false;
  const born = info.birthtime?.getTime();
  return recorded.born === undefined || born === undefined || recorded.born === born;
}

async function recordedInodes(real: string): Promise<Inode[]> {
  const found: Inode[] = [];
  for (const dir of recordDirs()) {
    if (!await isPrivateDir(dir)) continue;
    const text = await readRecord(join(dir, recordName(real)));
    if (text === undefined) continue;
    try {
      const record = JSON.parse(text);
      if (record.path !== real || !Array.isArray(record.inodes)) continue;
      for (const i of record.inodes) {
        if (typeof i?.dev !== "number" || typeof i?.ino !== "number") continue;
        found.push(
          typeof i.born === "number" ? { dev: i.dev, ino: i.ino, born: i.born } : {
            dev: i.dev,
            ino: i.ino,
          },
        );
      }
    } catch { /* a damaged record proves nothing */ }
  }
  return found;
}

/** The cache dir first; a private directory under the temp dir where the cache is read-only. */
function recordDirs(): string[] {
  const uid = Deno.uid() ?? "user";
  return [join(cacheDir(), "outputs"), join(tmpdir(), `artifact-cli-${uid}`, "outputs")];
}

function recordName(real: string): string {
  return `${createHash("sha256").update(real).digest("hex")}.json`;
}

async function readRecord(path: string): Promise<string | undefined> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info?.isFile || info.size > RECORD_LIMIT) return undefined;
  return await Deno.readTextFile(path).catch(() => undefined);
}

/** A record directory counts only when it and its parent are real directories we own. */
async function isPrivateDir(dir: string): Promise<boolean> {
  for (const path of [dir, resolve(dir, "..")]) {
    const info = await Deno.lstat(path).catch(() => undefined);
    if (!info?.isDirectory) return false;
    const uid = Deno.uid();
    if (uid !== null && info.uid !== null && info.uid !== uid) return false;
  }
  return true;
}

async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!await isPrivateDir(dir)) throw new Error(`${dir} is not ours`);
}

async function isEmpty(dir: string): Promise<boolean> {
  for await (const _ of Deno.readDir(dir)) return false;
  return true;
}

/** `/`, home, ancestors of home or of the cwd, and directories with a mount inside. */
async function refuseProtected(outDir: string, paths: string[]): Promise<void> {
  const home = Deno.env.get("HOME");
  const guarded = [Deno.cwd(), ...(home ? [resolve(home)] : [])];
  const realGuarded = await Promise.all(guarded.map((p) => Deno.realPath(p).catch(() => p)));
  const mounts = await mountPoints();
  for (const path of paths) {
    if (path === "/" || resolve(path, "..") === path) {
      throw new UsageError(`refusing to replace ${path}; pull into a subdirectory`);
    }
    if (home && (path === resolve(home))) {
      throw new UsageError(
        `refusing to replace ${path} (your home directory); pull into a subdirectory`,
      );
    }
    for (const g of [...guarded, ...realGuarded]) {
      if (g === path || g.startsWith(`${path}/`)) {
        throw new UsageError(
          `refusing to replace ${path}: it contains ${
            g === guarded[0] || g === realGuarded[0]
              ? "the current directory"
              : "your home directory"
          }; pull into a subdirectory`,
        );
      }
    }
    const inner = mounts.find((m) => m.startsWith(`${path}/`));
    if (inner) {
      throw new UsageError(
        `refusing to replace ${outDir}: ${inner} is mounted inside it; pull into the mount or another directory`,
      );
    }
  }
}
