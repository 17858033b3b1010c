/**
 * Shared pieces of the content-cache tests: an environment with the cache
 * on (runCli turns it off by default), random bytes, and the blob GETs a
 * real registry logged, which is how "0 blob bytes downloaded" is asserted.
 */
import { join } from "node:path";
import { isolatedEnv } from "./cli.ts";
import type { TestRegistry } from "./registry.ts";

/** An isolated environment whose content cache is `dir/cache` with the default cap. */
export function cacheEnv(dir: string, cacheDir = join(dir, "cache")): Record<string, string> {
  // An empty ARTIFACT_CLI_CACHE_MAX_BYTES restores the default cap: runCli sets 0 (off).
  return isolatedEnv(dir, { ARTIFACT_CLI_CACHE_DIR: cacheDir, ARTIFACT_CLI_CACHE_MAX_BYTES: "" });
}

/** GETs of blobs the registry answered after request number `from`. */
export async function blobGets(registry: TestRegistry, from: number): Promise<string[]> {
  const lines = await registry.settledRequests();
  return lines.slice(from).filter((l) => /^GET \/v2\/[^ ]+\/blobs\/sha256:/.test(l));
}

/** `size` random bytes (getRandomValues fills at most 64 KiB per call). */
export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}
