/**
 * Where blobs were last seen: per registry, digest → repositories. Pushing
 * to one repository of a registry then mounts a blob from another repository
 * of the same registry instead of uploading it (as docker does with its
 * distribution metadata). A cache only: no credentials, bounded, and a
 * failure to read or write it never fails a command.
 *
 * Stored in `$ARTIFACT_CLI_CACHE_DIR`, else `$XDG_CACHE_HOME/artifact-cli`,
 * else `~/.cache/artifact-cli`, as `blob-locations.json`.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../layout/atomic.ts";

type Locations = Record<string, Record<string, string[]>>;

const MAX_DIGESTS_PER_REGISTRY = 20_000;
const MAX_REPOSITORIES_PER_DIGEST = 4;

/** The cache directory of artifact-cli. */
export function cacheDir(): string {
  const explicit = Deno.env.get("ARTIFACT_CLI_CACHE_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  return join(xdg ?? join(Deno.env.get("HOME") ?? ".", ".cache"), "artifact-cli");
}

/**
 * Blob locations for one process: read lazily once, written back on
 * {@link BlobLocations.save}.
 *
 * @example
 * ```ts
 * import { BlobLocations } from "./blob_locations.ts";
 * const cache = new BlobLocations(await Deno.makeTempDir());
 * cache.remember("reg:5000", "sha256:" + "a".repeat(64), "team/app");
 * console.assert((await cache.repositoriesOf("reg:5000", "sha256:" + "a".repeat(64)))[0] === "team/app");
 * ```
 */
export class BlobLocations {
  #data: Locations | undefined;
  #dirty = false;

  constructor(readonly dir: string = cacheDir()) {}

  async #load(): Promise<Locations> {
    if (this.#data) return this.#data;
    try {
      const value = JSON.parse(await Deno.readTextFile(join(this.dir, "blob-locations.json")));
      this.#data = typeof value === "object" && value && !Array.isArray(value) ? value : {};
    } catch {
      this.#data = {};
    }
    return this.#data!;
  }

  /** Repositories of `registry` known to hold `digest`, most recent first. */
  async repositoriesOf(registry: string, digest: string): Promise<string[]> {
    const data = await this.#load();
    const repos = data[registry]?.[digest];
    return Array.isArray(repos) ? repos.filter((r) => typeof r === "string") : [];
  }

  /** Note that `repository` of `registry` holds `digest`. */
  remember(registry: string, digest: string, repository: string): void {
    const data = this.#data ??= {};
    const byDigest = data[registry] ??= {};
    const repos = (byDigest[digest] ?? []).filter((r) => r !== repository);
    // Re-inserting moves the digest to the end, so the oldest are dropped first.
    delete byDigest[digest];
    byDigest[digest] = [repository, ...repos].slice(0, MAX_REPOSITORIES_PER_DIGEST);
    const digests = Object.keys(byDigest);
    for (let i = 0; i < digests.length - MAX_DIGESTS_PER_REGISTRY; i++) delete byDigest[digests[i]];
    this.#dirty = true;
  }

  /** Write the cache back, merged with what other processes wrote meanwhile. */
  async save(): Promise<void> {
    if (!this.#dirty || !this.#data) return;
    const mine = this.#data;
    this.#data = undefined;
    const current = await this.#load();
    for (const [registry, digests] of Object.entries(mine)) {
      for (const [digest, repos] of Object.entries(digests)) {
        for (const repo of [...repos].reverse()) this.remember(registry, digest, repo);
      }
    }
    try {
      await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(
        join(this.dir, "blob-locations.json"),
        new TextEncoder().encode(JSON.stringify(current)),
        0o600,
      );
      this.#dirty = false;
    } catch {
      // A cache that cannot be written only costs a future upload.
    }
  }
}
