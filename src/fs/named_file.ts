/**
 * Files the tool reads because a flag, a config or the environment names
 * them (`--annotation-file`, `--config`, `sync -c`, `--lock-file`,
 * `--ca-file`, `$DOCKER_CONFIG/config.json`, `REGISTRY_AUTH_FILE`, podman's
 * auth file). Someone other than the user may control them (a config in a
 * cloned repository, a shared `DOCKER_CONFIG`), so each is read through
 * {@link readBoundedFile}: a FIFO, a device or a directory is refused without
 * opening it, and a size over the file's limit is refused before and while
 * reading. Failures become one line naming the file and where its name came
 * from: exit 2 for flags and configs, exit 4 for credential files.
 *
 * @module
 */

import { AuthError, UsageError } from "../errors.ts";
import { BoundedFileError, readBoundedFile } from "./bounded_file.ts";

/** The size limit of each kind of named file. */
export const NAMED_FILE_LIMITS = {
  /** oras annotation files: a few keys per file pushed. */
  annotationFile: 4 * 1024 * 1024,
  /** `--config` of an artifact push: the same bound as any image config read. */
  artifactConfig: 8 * 1024 * 1024,
  /** `sync -c` configs and lock files. */
  syncConfig: 4 * 1024 * 1024,
  /** `--ca-file`: a bundle of PEM certificates (Debian's whole bundle is about 200 KiB). */
  caFile: 4 * 1024 * 1024,
  /** docker's config.json and podman's auth.json. */
  credentialFile: 4 * 1024 * 1024,
} as const;

/** Options for {@link readNamedFile}. */
export interface NamedFileOptions {
  /** The flag or variable the name came from, e.g. `--ca-file` or `REGISTRY_AUTH_FILE`. */
  source: string;
  maxBytes: number;
  /** `usage` (exit 2) for flags and configs, `auth` (exit 4) for credential files. */
  role: "usage" | "auth";
  /** Return undefined for a name that does not exist, instead of failing. */
  optional?: boolean;
}

/**
 * Read a named file within its limit, or fail with one line naming it.
 *
 * @example
 * ```ts
 * import { NAMED_FILE_LIMITS, readNamedFile } from "./named_file.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "{}");
 * const bytes = await readNamedFile(path, {
 *   source: "--annotation-file",
 *   maxBytes: NAMED_FILE_LIMITS.annotationFile,
 *   role: "usage",
 * });
 * console.assert(bytes?.length === 2);
 * ```
 */
export async function readNamedFile(
  path: string,
  options: NamedFileOptions,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return await readBoundedFile(path, { maxBytes: options.maxBytes, source: options.source });
  } catch (e) {
    if (!(e instanceof BoundedFileError)) throw e;
    if (e.problem === "missing" && options.optional) return undefined;
    throw options.role === "auth"
      ? new AuthError(e.message, { cause: e })
      : new UsageError(e.message, { cause: e });
  }
}

/** {@link readNamedFile} decoded as UTF-8. */
export async function readNamedTextFile(
  path: string,
  options: NamedFileOptions,
): Promise<string | undefined> {
  const bytes = await readNamedFile(path, options);
  return bytes && new TextDecoder().decode(bytes);
}
