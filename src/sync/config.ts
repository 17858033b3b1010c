/**
 * The `sync` configuration file (YAML or JSON) and its lock file: which
 * artifacts go where, and the digests they resolved to.
 *
 * ```yaml
 * destination: ./workshop          # optional; default: the current directory
 * artifacts:
 *   - image: ghcr.io/org/files:v1  # any reference, oci: layouts included
 *     path: content                # directory under destination (replaced)
 *     platform: linux/amd64        # optional
 *     includePaths: ["docs/**"]    # optional globs on the artifact's paths
 *     excludePaths: ["**\/*.tmp"]  # optional
 *     newRootPath: docs            # optional: this directory becomes `path`
 * ```
 *
 * The Go educates artifact-cli's shape (also in Educates workshop
 * definitions) is read as well: the list under `spec`, `spec.dest` for the
 * destination, `image` as `{url, username, password, insecure}`, `path`
 * optional (the destination itself). Globs starting with `/` are relative to
 * the artifact's root in both shapes.
 *
 * ```yaml
 * spec:
 *   dest: ./workshops
 *   artifacts:
 *     - path: k8s-fundamentals
 *       image:
 *         url: ghcr.io/educates/lab-k8s-fundamentals-files:8.3
 *       includePaths: [/workshop/**]
 * ```
 *
 * @module
 */

import { parse, stringify } from "yaml";
import { compileGlob } from "../archive/glob.ts";
import { UsageError } from "../errors.ts";
import { parsePlatform, type Platform } from "../oci/platform.ts";
import { parseReference, type Reference } from "../reference.ts";

/** One artifact to sync. */
export interface SyncArtifact {
  image: string;
  reference: Reference;
  /** Relative directory under the destination. */
  path: string;
  platform?: Platform;
  includePaths: string[];
  excludePaths: string[];
  /** Relative directory of the artifact that becomes `path`'s root. */
  newRootPath?: string;
  /** Annotations the index entry must have (`select:`, as `pull --select`). */
  select?: Record<string, string>;
  /** Credentials given in the config (`image.username`/`image.password`); never printed. */
  credentials?: { username: string; password: string };
  /** `image.insecure: true`: allowed only with `--insecure` or `--plain-http` on the command line. */
  insecure?: boolean;
}

/** A parsed sync configuration. */
export interface SyncConfig {
  destination?: string;
  artifacts: SyncArtifact[];
}

/** A lock file: per artifact path, the reference and the digest it resolved to. */
export interface SyncLock {
  apiVersion: typeof LOCK_API_VERSION;
  kind: "SyncLock";
  artifacts: { path: string; image: string; digest: string }[];
}

/** The lock file's apiVersion. */
export const LOCK_API_VERSION = "artifact-cli.educates.dev/v1alpha1";

const KNOWN_KEYS = new Set([
  "image",
  "path",
  "platform",
  "includePaths",
  "excludePaths",
  "newRootPath",
  "select",
]);

/**
 * Parse a sync configuration (YAML or JSON text); `source` names it in errors.
 *
 * @example
 * ```ts
 * import { parseSyncConfig } from "./config.ts";
 * const config = parseSyncConfig("artifacts:\n- image: oci:./store:v1\n  path: out\n", "sync.yml");
 * console.assert(config.artifacts[0].path === "out");
 * ```
 */
export function parseSyncConfig(text: string, source: string): SyncConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new UsageError(
      `${source}: not valid YAML or JSON: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const fail = (where: string, why: string): never => {
    throw new UsageError(`${source}: ${where}: ${why}`);
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    fail("top level", "expected a mapping");
  }
  let top = doc as Record<string, unknown>;
  if (top.spec !== undefined) top = goShape(top, fail);
  if (top.destination !== undefined && typeof top.destination !== "string") {
    fail("destination", "expected a string");
  }
  if (!Array.isArray(top.artifacts) || top.artifacts.length === 0) {
    fail("artifacts", "expected a non-empty list");
  }
  const seen = new Set<string>();
  const artifacts = (top.artifacts as unknown[]).map((item, i) => {
    const where = `artifacts[${i}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      fail(where, "expected a mapping");
    }
    const entry = item as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (!KNOWN_KEYS.has(key)) fail(`${where}.${key}`, "unknown field");
    }
    const { image, credentials, insecure } = imageField(entry.image, `${where}.image`, fail);
    const path = entry.path === undefined ? "." : relativePath(entry.path, `${where}.path`, fail);
    for (const other of seen) {
      if (overlaps(path, other)) {
        fail(`${where}.path`, `overlaps another artifact's path ${JSON.stringify(other)}`);
      }
    }
    seen.add(path);
    const artifact: SyncArtifact = {
      image,
      reference: parseReference(image),
      path,
      includePaths: globList(entry.includePaths, `${where}.includePaths`, fail),
      excludePaths: globList(entry.excludePaths, `${where}.excludePaths`, fail),
    };
    if (entry.platform !== undefined) {
      if (typeof entry.platform !== "string") {
        fail(`${where}.platform`, "expected os/arch[/variant]");
      }
      artifact.platform = parsePlatform(entry.platform as string);
    }
    if (entry.select !== undefined) {
      const select = entry.select;
      if (
        typeof select !== "object" || select === null || Array.isArray(select) ||
        Object.values(select).some((v) => typeof v !== "string")
      ) {
        fail(`${where}.select`, "expected a mapping of annotation keys to string values");
      }
      artifact.select = select as Record<string, string>;
    }
    if (credentials) artifact.credentials = credentials;
    if (insecure) artifact.insecure = true;
    if (entry.newRootPath !== undefined) {
      artifact.newRootPath = relativePath(entry.newRootPath, `${where}.newRootPath`, fail);
    }
    return artifact;
  });
  return { destination: top.destination as string | undefined, artifacts };
}

type Fail = (where: string, why: string) => never;

/** The Go artifact-cli's document (`spec.dest`, `spec.artifacts`) in our shape. */
function goShape(top: Record<string, unknown>, fail: Fail): Record<string, unknown> {
  for (const key of Object.keys(top)) {
    if (!["apiVersion", "kind", "metadata", "spec"].includes(key)) {
      fail(key, "unknown field next to spec");
    }
  }
  const spec = top.spec;
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    return fail("spec", "expected a mapping");
  }
  const { dest, artifacts, ...rest } = spec as Record<string, unknown>;
  for (const key of Object.keys(rest)) fail(`spec.${key}`, "unknown field");
  if (dest !== undefined && typeof dest !== "string") fail("spec.dest", "expected a string");
  return { destination: dest, artifacts };
}

/** `image:` as a reference, or as the Go tool's `{url, username, password, insecure}`. */
function imageField(value: unknown, where: string, fail: Fail): {
  image: string;
  credentials?: { username: string; password: string };
  insecure?: boolean;
} {
  if (typeof value === "string" && value) return { image: value };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(where, "expected a reference or a mapping with url");
  }
  const { url, username, password, insecure, ...rest } = value as Record<string, unknown>;
  for (const key of Object.keys(rest)) fail(`${where}.${key}`, "unknown field");
  if (typeof url !== "string" || !url) return fail(`${where}.url`, "expected a reference");
  if (insecure !== undefined && typeof insecure !== "boolean") {
    fail(`${where}.insecure`, "expected true or false");
  }
  // Never quote the values: they may be secrets.
  if (username !== undefined && (typeof username !== "string" || !username)) {
    fail(`${where}.username`, "expected a non-empty string");
  }
  if (password !== undefined && typeof password !== "string") {
    fail(`${where}.password`, "expected a string");
  }
  if ((username === undefined) !== (password === undefined)) {
    fail(where, "username and password must be given together");
  }
  return {
    image: url,
    credentials: username === undefined
      ? undefined
      : { username: username as string, password: password as string },
    insecure: insecure === true,
  };
}

/** One path is the other or lies inside it ("." contains everything). */
function overlaps(a: string, b: string): boolean {
  return a === b || a === "." || b === "." || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

function relativePath(
  value: unknown,
  where: string,
  fail: (w: string, why: string) => never,
): string {
  if (typeof value !== "string" || value.trim() === "") {
    return fail(where, "expected a relative path");
  }
  const parts = value.split("/").filter((p) => p !== "" && p !== ".");
  if (value.startsWith("/") || parts.includes("..")) {
    fail(where, "must stay inside the destination");
  }
  return parts.length ? parts.join("/") : ".";
}

function globList(
  value: unknown,
  where: string,
  fail: (w: string, why: string) => never,
): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    return fail(where, "expected a list of globs");
  }
  // Compiled here only to refuse a bad glob before anything is pulled.
  (value as string[]).forEach((glob, i) => {
    try {
      compileGlob(glob);
    } catch (e) {
      if (e instanceof UsageError) fail(`${where}[${i}]`, e.message);
      throw e;
    }
  });
  return value as string[];
}

/** Parse a lock file written by {@link formatSyncLock}. */
export function parseSyncLock(text: string, source: string): SyncLock {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new UsageError(`${source}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const lock = doc as SyncLock;
  if (
    lock?.kind !== "SyncLock" || !Array.isArray(lock.artifacts) ||
    lock.artifacts.some((a) =>
      typeof a?.path !== "string" || !/^sha256:[0-9a-f]{64}$/.test(a?.digest)
    )
  ) {
    throw new UsageError(`${source}: not an artifact-cli sync lock file`);
  }
  return lock;
}

/** The YAML text of a lock file. */
export function formatSyncLock(lock: SyncLock): string {
  return stringify(lock);
}
