/**
 * Collects the files to pack: one sorted list of entries from one or more
 * input paths, with excludes applied. The list is what makes a layer
 * reproducible, so it depends only on names, types, modes and contents.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { isReservedName, reservedNameMessage } from "./reserved_names.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { compileGlob, type Glob, matchesAny } from "./glob.ts";
import { TreeList } from "./tree_list.ts";

export type { TreeEntry } from "./tree_list.ts";

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
 * its base name (as `imgpkg push -f` does). Directories given twice (two
 * inputs with the same subdirectory) merge; any other name given twice is an
 * error. The list is in tar order: {@link comparePaths} order, which is the
 * walk's own order when each directory's names are sorted before descending,
 * so no list of all paths is ever sorted or held.
 *
 * @example
 * ```ts
 * import { collectTree } from "./walk.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * console.assert(collectTree([dir]).at(0).path === "a.txt");
 * ```
 */
export function collectTree(inputs: readonly string[], options: CollectOptions = {}): TreeList {
  if (inputs.length === 0) throw new UsageError("nothing to push: give a directory or file");
  const excludes: Glob[] = (options.exclude ?? []).map(compileGlob);
  if (!options.includeGit) excludes.push(compileGlob(".git"));
  const list = new TreeList();
  const rootChildren = new Map<string, Child>();
  for (const input of inputs) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(input);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new NotFoundError(`${input} does not exist`);
      throw e;
    }
    if (info.isDirectory) {
      readLevel(list, resolve(input), "", rootChildren, excludes, options.onWarning);
    } else if (info.isFile) {
      const source = resolve(input);
      const name = basename(source);
      if (isReservedName(name)) {
        throw new UsageError(reservedNameMessage(name).replace(/^refusing /, "cannot push "));
      }
      if (matchesAny(excludes, name, false)) continue;
      addChild(
        rootChildren,
        name,
        fileChild(name, source, list.addSourceDir(dirname(source)), info),
      );
    } else {
      throw new UsageError(`${input} is not a regular file or directory`);
    }
  }
  // Depth first, each directory's names sorted: that is comparePaths order.
  const stack: { children: Child[]; next: number; row: number; path: string }[] = [
    { children: sortedChildren(rootChildren), next: 0, row: -1, path: "" },
  ];
  while (stack.length) {
    const level = stack[stack.length - 1];
    if (level.next === level.children.length) {
      stack.pop();
      continue;
    }
    const child = level.children[level.next++];
    const row = list.add({ ...child, parent: level.row });
    if (child.type !== "directory") continue;
    const path = level.path ? `${level.path}/${child.name}` : child.name;
    const children = new Map<string, Child>();
    for (const dir of child.dirs!) {
      readLevel(list, dir, path, children, excludes, options.onWarning);
    }
    stack.push({ children: sortedChildren(children), next: 0, row, path });
  }
  return list;
}

/** One name of a directory being listed (or of the root), before it is added. */
interface Child {
  name: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  size: number;
  source: string;
  sourceDir: number;
  linkTarget?: string;
  dev?: number | null;
  ino?: number | null;
  /** Of a directory: where its contents are on disk (more than one when inputs merge). */
  dirs?: string[];
}

function sortedChildren(children: Map<string, Child>): Child[] {
  // Plain string comparison is UTF-16 code units, as comparePaths compares.
  return [...children.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function addChild(children: Map<string, Child>, path: string, child: Child): void {
  const existing = children.get(child.name);
  if (!existing) {
    children.set(child.name, child);
  } else if (existing.type === "directory" && child.type === "directory") {
    existing.dirs!.push(...child.dirs!);
  } else {
    throw new UsageError(`${path} is given twice (from ${existing.source} and ${child.source})`);
  }
}

/** Add the names of the directory `absDir` (at `relDir` in the layer) to `children`. */
function readLevel(
  list: TreeList,
  absDir: string,
  relDir: string,
  children: Map<string, Child>,
  excludes: Glob[],
  onWarning?: (message: string) => void,
): void {
  const sourceDir = list.addSourceDir(absDir);
  for (const dirent of Deno.readDirSync(absDir)) {
    const name = dirent.name;
    const path = relDir ? `${relDir}/${name}` : name;
    // absDir is resolved and a name has no "/": no need for join's normalizing garbage.
    const source = absDir === "/" ? `/${name}` : `${absDir}/${name}`;
    if (name.startsWith(WHITEOUT_PREFIX)) {
      throw new UsageError(
        `${source}: names starting with ".wh." are reserved for OCI whiteouts and cannot be pushed`,
      );
    }
    if (matchesAny(excludes, path, dirent.isDirectory)) continue;
    if (name.includes("\uFFFD")) refuseUndecodableName(absDir, name);
    if (isReservedName(name)) {
      throw new UsageError(
        `${source}: ${reservedNameMessage(path).replace(/^refusing /, "cannot push ")}`,
      );
    }
    const info = Deno.lstatSync(source);
    if (info.isDirectory) {
      const mode = info.mode! & 0o7777;
      addChild(children, path, {
        name,
        type: "directory",
        mode,
        size: 0,
        source,
        sourceDir,
        dirs: [source],
      });
    } else if (info.isFile) {
      addChild(children, path, fileChild(name, source, sourceDir, info));
    } else if (info.isSymlink) {
      addChild(children, path, {
        name,
        type: "symlink",
        mode: 0o777,
        size: 0,
        linkTarget: Deno.readLinkSync(source),
        source,
        sourceDir,
      });
    } else {
      onWarning?.(`skipping ${source}: not a regular file, directory or symlink`);
    }
  }
}

function fileChild(name: string, source: string, sourceDir: number, info: Deno.FileInfo): Child {
  return {
    name,
    type: "file",
    mode: info.mode! & 0o7777,
    size: info.size,
    source,
    sourceDir,
    dev: info.dev,
    ino: info.ino,
  };
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
