/**
 * Where the content cache lives and how big it may grow, from the environment.
 *
 * @module
 */

import { join } from "node:path";

/** Default size cap of the content cache: 2 GiB. */
export const DEFAULT_CACHE_MAX_BYTES = 2 * 1024 * 1024 * 1024;

/** The cache's directory (undefined: turned off) and size cap. */
export interface CacheSettings {
  dir?: string;
  maxBytes: number;
}

/**
 * Cache settings: `ARTIFACT_CLI_CACHE_DIR` (empty or `off` turns the cache
 * off), else `$XDG_CACHE_HOME/artifact-cli`, else `~/.cache/artifact-cli`;
 * `ARTIFACT_CLI_CACHE_MAX_BYTES` caps its size (default 2 GiB; 0 turns the cache off).
 *
 * @example
 * ```ts
 * import { cacheSettings } from "./settings.ts";
 * const s = cacheSettings({ ARTIFACT_CLI_CACHE_DIR: "off" });
 * console.assert(s.dir === undefined);
 * ```
 */
export function cacheSettings(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): CacheSettings {
  const raw = env.ARTIFACT_CLI_CACHE_MAX_BYTES;
  const parsed = raw === undefined || raw === "" ? NaN : Number(raw);
  const maxBytes = Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : DEFAULT_CACHE_MAX_BYTES;
  const explicit = env.ARTIFACT_CLI_CACHE_DIR;
  if (maxBytes === 0) return { maxBytes };
  if (explicit !== undefined) {
    return { dir: explicit === "" || explicit === "off" ? undefined : explicit, maxBytes };
  }
  const dir = defaultCacheDir(env);
  return dir ? { dir, maxBytes } : { maxBytes };
}

/**
 * artifact-cli's directory under the user's cache home: `$XDG_CACHE_HOME/artifact-cli`,
 * else `~/.cache/artifact-cli`; undefined when neither variable is set.
 *
 * @example
 * ```ts
 * import { defaultCacheDir } from "./settings.ts";
 * console.assert(defaultCacheDir({ HOME: "/home/me" }) === "/home/me/.cache/artifact-cli");
 * ```
 */
export function defaultCacheDir(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string | undefined {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "artifact-cli");
  if (env.HOME) return join(env.HOME, ".cache", "artifact-cli");
  return undefined;
}
