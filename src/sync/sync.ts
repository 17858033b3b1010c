/**
 * `sync`: pull several artifacts into directories under one destination,
 * each filtered and re-rooted as configured, each replaced atomically, and
 * record (or honour) the digests in a lock file.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { compileGlob, type Glob, matchesAny } from "../archive/glob.ts";
import { ArtifactError, UsageError } from "../errors.ts";
import type { Digest } from "../oci/digest.ts";
import { pull } from "../pull/pull.ts";
import {
  checkOutputTarget,
  recoverInterrupted,
  removeTree,
  replaceDirectory,
} from "../pull/atomic_output.ts";
import { formatReference, withDigest } from "../reference.ts";
import type { Target } from "../target.ts";
import { openTarget, tagOrDigestOf } from "../targets.ts";
import type { SyncArtifact, SyncConfig, SyncLock } from "./config.ts";
import { LOCK_API_VERSION } from "./config.ts";

/** Options for {@link sync}. */
export interface SyncOptions {
  /** Base directory for artifact paths (overrides the config's destination). */
  destination: string;
  /** Digests to pull instead of resolving tags (from a lock file). */
  lock?: SyncLock;
  /** Opens targets; default {@link openTarget}. */
  open?: (artifact: SyncArtifact) => Promise<Target>;
  /** Replace non-empty artifact directories that no earlier pull or sync wrote. */
  force?: boolean;
  /**
   * Files no artifact directory may hold (the config and the lock file):
   * replacing such a directory would delete them.
   */
  protectedFiles?: string[];
  onWarning?: (message: string) => void;
  /**
   * Runs each artifact's pull (default: once). The CLI passes its content
   * cache's `run`, which repeats a pull that a corrupt cache entry spoiled.
   */
  attempt?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** What one artifact resolved to and where it went. */
export interface SyncedArtifact {
  path: string;
  image: string;
  digest: Digest;
  /** Files (and symlinks) written after filtering. */
  files: number;
}

/**
 * Sync every artifact of `config`; returns the lock describing the result.
 *
 * @example
 * ```ts ignore
 * const lock = await sync(parseSyncConfig(text, "sync.yml"), { destination: "." });
 * ```
 */
export async function sync(config: SyncConfig, options: SyncOptions): Promise<SyncedArtifact[]> {
  const results: SyncedArtifact[] = [];
  // Every destination is checked before the first download, so a refusal changes nothing.
  for (const artifact of config.artifacts) {
    await checkArtifactDirectory(options.destination, artifact.path, options.protectedFiles ?? []);
    await recoverInterrupted(join(options.destination, artifact.path));
    await checkOutputTarget(join(options.destination, artifact.path), { force: options.force });
  }
  for (const artifact of config.artifacts) {
    const locked = options.lock?.artifacts.find((a) => a.path === artifact.path);
    if (locked && locked.image !== artifact.image) {
      throw new UsageError(
        `lock file entry for ${artifact.path} is for ${locked.image}, not ${artifact.image}; ` +
          `update the lock (run without --locked)`,
      );
    }
    const reference = locked
      ? withDigest(artifact.reference, locked.digest as Digest)
      : artifact.reference;
    const target = await (options.open ?? ((a: SyncArtifact) => openTarget(a.reference)))(artifact);
    try {
      const out = join(options.destination, artifact.path);
      await makeRealDirectories(options.destination, dirname(artifact.path));
      const synced = await replaceDirectory(out, async (dir) => {
        const full = join(dir, ".artifact-cli-full");
        const attempt = options.attempt ?? ((work) => work());
        const result = await attempt(() =>
          pull(target, {
            output: full,
            tagOrDigest: tagOrDigestOf(reference),
            platform: artifact.platform,
            select: artifact.select,
            remember: false,
            onWarning: options.onWarning,
          })
        );
        const files = selectInto(full, dir, artifact);
        await removeTree(full);
        const filtered = artifact.includePaths.length > 0 || artifact.excludePaths.length > 0 ||
          (artifact.newRootPath !== undefined && artifact.newRootPath !== ".");
        if (files === 0 && filtered) {
          // Almost always a filter written for another layout (e.g. a missing
          // leading directory): failing keeps the previous content in place.
          throw new ArtifactError(
            `${artifact.path}: no file of ${
              formatReference(reference)
            } passes its includePaths/excludePaths/newRootPath; ${artifact.path} was left as it was`,
          );
        }
        return { digest: result.resolved.digest, files };
      }, { force: options.force });
      if (synced.files === 0) {
        options.onWarning?.(`${formatReference(reference)}: no files matched for ${artifact.path}`);
      }
      results.push({ path: artifact.path, image: artifact.image, ...synced });
    } finally {
      await target.close?.();
    }
  }
  return results;
}

/**
 * Refuse an artifact directory that a link would put outside the destination
 * (any existing component below the destination that is not a real
 * directory), and one that holds the config or the lock file.
 */
async function checkArtifactDirectory(
  destination: string,
  path: string,
  protectedFiles: readonly string[],
): Promise<void> {
  let at = destination;
  for (const part of path === "." ? [] : path.split("/")) {
    at = join(at, part);
    const info = await Deno.lstat(at).catch(() => undefined);
    if (!info) break;
    if (!info.isDirectory) {
      throw new UsageError(
        `sync: ${at} is ${info.isSymlink ? "a symbolic link" : "not a directory"}; ` +
          `artifact path ${
            JSON.stringify(path)
          } must lie in real directories under the destination`,
      );
    }
  }
  const out = join(await realPrefix(destination), path);
  for (const file of protectedFiles) {
    const real = join(await realPrefix(dirname(file)), basename(file));
    if (real === out || real.startsWith(`${out}/`) || out === "/") {
      throw new UsageError(
        `sync: artifact path ${JSON.stringify(path)} would replace ${out}, which holds ${file}; ` +
          `give each artifact its own subdirectory`,
      );
    }
  }
}

/** The real path of `path`, or of its longest existing ancestor with the rest appended. */
async function realPrefix(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await Deno.realPath(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(await realPrefix(parent), basename(absolute));
  }
}

/** Create `destination/rel` one real directory at a time, refusing any link met on the way. */
async function makeRealDirectories(destination: string, rel: string): Promise<void> {
  await Deno.mkdir(destination, { recursive: true });
  let at = destination;
  for (const part of rel === "." ? [] : rel.split("/")) {
    at = join(at, part);
    try {
      await Deno.mkdir(at);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const info = await Deno.lstat(at);
    if (!info.isDirectory) {
      throw new UsageError(`sync: ${at} is not a real directory; refusing to write through it`);
    }
  }
}

/** The lock file for a sync result. */
export function lockFor(results: SyncedArtifact[]): SyncLock {
  return {
    apiVersion: LOCK_API_VERSION,
    kind: "SyncLock",
    artifacts: results.map(({ path, image, digest }) => ({ path, image, digest })),
  };
}

/**
 * Move the entries of `from` that pass the artifact's filters into `to`,
 * re-rooted at newRootPath. Filters see the artifact's own paths.
 * Returns the number of files and symlinks moved.
 */
function selectInto(from: string, to: string, artifact: SyncArtifact): number {
  const include: Glob[] = artifact.includePaths.map(compileGlob);
  const exclude: Glob[] = artifact.excludePaths.map(compileGlob);
  const root = artifact.newRootPath && artifact.newRootPath !== "."
    ? `${artifact.newRootPath}/`
    : "";
  const originalModes = new Map<string, number>();
  // Directory modes are applied last, so read-only directories can be filled first.
  const dirModes = new Map<string, number>();
  let moved = 0;

  const keep = (path: string, isDir: boolean) =>
    path.startsWith(root) &&
    (include.length === 0 || matchesAny(include, path, isDir)) &&
    !matchesAny(exclude, path, isDir);

  /** Create the directories of `rel` (a path under the new root), with their original modes. */
  const makeDirs = (rel: string) => {
    let acc = "";
    for (const part of rel.split("/")) {
      acc = acc ? `${acc}/${part}` : part;
      if (dirModes.has(acc)) continue;
      Deno.mkdirSync(join(to, acc), { mode: 0o700 });
      dirModes.set(acc, originalModes.get(root + acc) ?? 0o755);
    }
  };

  const walk = (rel: string) => {
    const abs = rel ? join(from, rel) : from;
    // Moving entries out needs write access to their directory.
    Deno.chmodSync(abs, (Deno.statSync(abs).mode! & 0o7777) | 0o700);
    let empty = true;
    for (const entry of Deno.readDirSync(abs)) {
      empty = false;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const info = Deno.lstatSync(join(from, path));
      if (info.isDirectory) {
        if (matchesAny(exclude, path, true)) continue;
        originalModes.set(path, info.mode! & 0o7777);
        walk(path);
        continue;
      }
      if (!keep(path, false)) continue;
      const target = path.slice(root.length);
      const parent = dirname(target);
      if (parent !== ".") makeDirs(parent);
      Deno.renameSync(join(from, path), join(to, target));
      moved++;
    }
    if (empty && rel && `${rel}/` !== root && keep(rel, true)) makeDirs(rel.slice(root.length));
  };
  walk("");
  for (const [rel, mode] of [...dirModes].sort((a, b) => b[0].length - a[0].length)) {
    Deno.chmodSync(join(to, rel), mode);
  }
  return moved;
}
