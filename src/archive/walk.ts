/**
 * Collects the files to pack: one sorted list of entries from one or more
 * input paths, with excludes applied. The list is what makes a layer
 * reproducible, so it depends only on names, types, modes and contents.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { isReservedName, reservedNameMessage } from "./reserved_names.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { compileGlob, type Glob, matchesAny } from "./glob.ts";

/** One file, directory or symlink to put in a layer. */
export interface TreeEntry {
  /** Root-relative POSIX path without `./` or trailing `/`. */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits (including setuid/setgid/sticky). */
  mode: number;
  /** Bytes of a regular file; 0 otherwise. */
  size: number;
  linkTarget?: string;
  /** Where the entry is on disk. */
  source: string;
  /**
   * Device and inode of a regular file as the walk saw it: the packer reads
   * the file later and refuses it when what it opened is another file (a
   * name swapped for a link to something outside the tree in between).
   */
  identity?: { dev: number; ino: number };
}

/** Options for {@link collectTree}. */
export interface CollectOptions {
  /** Globs of paths to leave out (see glob.ts). */
  exclude?: readonly string[];
  /** Keep `.git` directories (left out by default). */
  includeGit?: boolean;
  /** Called for entries that are skipped (sockets, devices, FIFOs). */
  onWarning?: (message: string) => void;
}

/** Names the OCI layer format reserves for whiteouts. */
const WHITEOUT_PREFIX = ".wh.";

/**
 * List the entries of the given inputs. A directory input contributes its
 * contents at the root of the layer; a file input contributes itself under
 * its base name (as `imgpkg push -f` does).
 *
 * @example
 * ```ts
 * import { collectTree } from "./walk.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * console.assert(collectTree([dir])[0].path === "a.txt");
 * ```
 */
export function collectTree(inputs: readonly string[], options: CollectOptions = {}): TreeEntry[] {
  if (inputs.length === 0) throw new UsageError("nothing to push: give a directory or file");
  const excludes: Glob[] = (options.exclude ?? []).map(compileGlob);
  if (!options.includeGit) excludes.push(compileGlob(".git"));
  const byPath = new Map<string, TreeEntry>();
  const add = (entry: TreeEntry) => {
    const existing = byPath.get(entry.path);
    if (existing) {
      if (existing.type === "directory" && entry.type === "directory") return;
      throw new UsageError(
        `${entry.path} is given twice (from ${existing.source} and ${entry.source})`,
      );
    }
    byPath.set(entry.path, entry);
  };
  for (const input of inputs) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(input);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new NotFoundError(`${input} does not exist`);
      throw e;
    }
    if (info.isDirectory) {
      walkDirectory(resolve(input), "", excludes, add, options.onWarning);
    } else if (info.isFile) {
      const name = basename(resolve(input));
      if (isReservedName(name)) {
        throw new UsageError(reservedNameMessage(name).replace(/^refusing /, "cannot push "));
      }
      if (!matchesAny(excludes, name, false)) add(fileEntry(name, resolve(input), info));
    } else {
      throw new UsageError(`${input} is not a regular file or directory`);
    }
  }
  return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
}

function walkDirectory(
  root: string,
  prefix: string,
  excludes: Glob[],
  add: (entry: TreeEntry) => void,
  onWarning?: (message: string) => void,
): void {
  const stack: string[] = [prefix];
  while (stack.length) {
    const relDir = stack.pop()!;
    const absDir = relDir ? join(root, relDir) : root;
    for (const dirent of Deno.readDirSync(absDir)) {
      const path = relDir ? `${relDir}/${dirent.name}` : dirent.name;
      // absDir is resolved and a name has no "/": no need for join's normalizing garbage.
      const source = absDir === "/" ? `/${dirent.name}` : `${absDir}/${dirent.name}`;
      if (dirent.name.startsWith(WHITEOUT_PREFIX)) {
        throw new UsageError(
          `${source}: names starting with ".wh." are reserved for OCI whiteouts and cannot be pushed`,
        );
      }
      if (matchesAny(excludes, path, dirent.isDirectory)) continue;
      if (dirent.name.includes("\uFFFD")) refuseUndecodableName(absDir, dirent.name);
      if (isReservedName(dirent.name)) {
        throw new UsageError(
          `${source}: ${reservedNameMessage(path).replace(/^refusing /, "cannot push ")}`,
        );
      }
      const info = Deno.lstatSync(source);
      if (info.isDirectory) {
        add({ path, type: "directory", mode: info.mode! & 0o7777, size: 0, source });
        stack.push(path);
      } else if (info.isFile) {
        add(fileEntry(path, source, info));
      } else if (info.isSymlink) {
        add({
          path,
          type: "symlink",
          mode: 0o777,
          size: 0,
          linkTarget: Deno.readLinkSync(source),
          source,
        });
      } else {
        onWarning?.(`skipping ${source}: not a regular file, directory or symlink`);
      }
    }
  }
}

function fileEntry(path: string, source: string, info: Deno.FileInfo): TreeEntry {
  const entry: TreeEntry = {
    path,
    type: "file",
    mode: info.mode! & 0o7777,
    size: info.size,
    source,
  };
  if (info.ino !== null && info.dev !== null) entry.identity = { dev: info.dev, ino: info.ino };
  return entry;
}

/**
 * Order paths segment by segment (so a directory's entries are contiguous and
 * follow it), comparing UTF-16 code units; `/` sorts before every character.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x === 0x2f) x = -1;
    if (y === 0x2f) y = -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Deno decodes names lossily: a name that is not valid UTF-8 comes back with
 * U+FFFD and cannot be opened by that string. Say so instead of a misleading
 * "not found". (A name that really holds U+FFFD exists and passes.)
 */
function refuseUndecodableName(dir: string, name: string): void {
  try {
    Deno.lstatSync(join(dir, name));
    return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const position = new TextEncoder().encode(name.slice(0, name.indexOf("\uFFFD"))).byteLength;
  throw new UsageError(
    `${dir}: a file name is not valid UTF-8 (invalid byte at position ${position} of ` +
      `${JSON.stringify(name)}); rename it or exclude it to push this tree`,
  );
}
