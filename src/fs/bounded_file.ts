/**
 * Reading a file that someone else may control (a config named by a flag, a
 * credential file named by the environment, a layout's index.json) without
 * hanging on a FIFO, reading a device forever or exhausting memory.
 *
 * The file is stat-ed before it is opened (opening a FIFO blocks until a
 * writer appears), refused unless it is a regular file, refused over its limit
 * before any byte is read, and the read itself is bounded too: `/proc` files
 * report size 0 and a file can grow between stat and read.
 *
 * @module
 */

import { ArtifactError } from "../errors.ts";

/** How a bounded read failed; the caller maps it to its own error class. */
export type BoundedFileProblem = "missing" | "not-regular" | "too-large" | "changed" | "unreadable";

/** A file named by the user or the environment could not be read safely. */
export class BoundedFileError extends ArtifactError {
  constructor(
    message: string,
    /** What went wrong, so callers can choose an exit code or treat "missing" as absent. */
    readonly problem: BoundedFileProblem,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Options for {@link readBoundedFile}. */
export interface BoundedFileOptions {
  /** Largest accepted size in bytes. */
  maxBytes: number;
  /**
   * Where the name came from, for the error line: `--annotation-file`,
   * `DOCKER_CONFIG`, `OCI layout oci:./store`.
   */
  source: string;
  /**
   * Follow a symbolic link at `path` (a user-given name may be a link) or refuse
   * it (a name inside content the tool does not trust, such as a layout).
   * Defaults to true.
   */
  followSymlinks?: boolean;
}

/** The kind of a file, in words, for error lines. */
export function describeFileKind(info: Deno.FileInfo): string {
  if (info.isFile) return "a regular file";
  if (info.isDirectory) return "a directory";
  if (info.isSymlink) return "a symbolic link";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/**
 * Stat `path` (following a link only when allowed) and check that it is a
 * regular file no larger than `maxBytes`. Returns its info.
 */
export async function statRegularFile(
  path: string,
  options: BoundedFileOptions,
): Promise<Deno.FileInfo> {
  const follow = options.followSymlinks ?? true;
  let info: Deno.FileInfo;
  try {
    info = follow ? await Deno.stat(path) : await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new BoundedFileError(`${options.source}: ${path} does not exist`, "missing", {
        cause: e,
      });
    }
    throw new BoundedFileError(
      `${options.source}: cannot read ${path}: ${(e as Error).message}`,
      "unreadable",
      { cause: e },
    );
  }
  if (!info.isFile) {
    throw new BoundedFileError(
      `${options.source}: ${path} is ${describeFileKind(info)}, expected a regular file`,
      "not-regular",
    );
  }
  if (info.size > options.maxBytes) {
    throw new BoundedFileError(
      `${options.source}: ${path} is ${info.size} bytes, over the limit of ${options.maxBytes}`,
      "too-large",
    );
  }
  return info;
}

/**
 * Open a file checked by {@link statRegularFile}, and check that what was
 * opened is the file that was stat-ed (same device and inode): a name swapped
 * for a link or another file in between is refused.
 */
export async function openRegularFile(
  path: string,
  options: BoundedFileOptions,
): Promise<{ file: Deno.FsFile; info: Deno.FileInfo }> {
  const info = await statRegularFile(path, options);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new BoundedFileError(
      `${options.source}: cannot open ${path}: ${(e as Error).message}`,
      (e instanceof Deno.errors.NotFound) ? "missing" : "unreadable",
      { cause: e },
    );
  }
  const opened = await file.stat();
  if (!opened.isFile || opened.ino !== info.ino || opened.dev !== info.dev) {
    file.close();
    throw new BoundedFileError(`${options.source}: ${path} changed while it was opened`, "changed");
  }
  return { file, info: opened };
}

/**
 * Read a whole regular file of at most `maxBytes`.
 *
 * @example
 * ```ts
 * import { readBoundedFile } from "./bounded_file.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "k=v\n");
 * const bytes = await readBoundedFile(path, { maxBytes: 1024, source: "--annotation-file" });
 * console.assert(bytes.length === 4);
 * ```
 */
export async function readBoundedFile(
  path: string,
  options: BoundedFileOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const { file } = await openRegularFile(path, options);
  try {
    // Fixed-size chunks (a multiple of 8: some /proc files refuse other
    // sizes); the running total tells "exactly the limit" from "over it".
    const buffer = new Uint8Array(64 * 1024);
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    let total = 0;
    while (true) {
      const n = await file.read(buffer);
      if (n === null) break;
      total += n;
      if (total > options.maxBytes) {
        throw new BoundedFileError(
          `${options.source}: ${path} is over the limit of ${options.maxBytes} bytes`,
          "too-large",
        );
      }
      chunks.push(buffer.slice(0, n));
    }
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  } catch (e) {
    if (e instanceof BoundedFileError) throw e;
    throw new BoundedFileError(
      `${options.source}: cannot read ${path}: ${(e as Error).message}`,
      "unreadable",
      { cause: e },
    );
  } finally {
    file.close();
  }
}

/** {@link readBoundedFile} decoded as UTF-8 text. */
export async function readBoundedTextFile(
  path: string,
  options: BoundedFileOptions,
): Promise<string> {
  return new TextDecoder().decode(await readBoundedFile(path, options));
}
