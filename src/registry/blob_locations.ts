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
import { tmpdir } from "node:os";
import { writeFileAtomic } from "../layout/atomic.ts";
import { defaultCacheDir } from "../cache/settings.ts";

type Locations = Record<string, Record<string, string[]>>;

const MAX_DIGESTS_PER_REGISTRY = 20_000;
const MAX_REPOSITORIES_PER_DIGEST = 4;

/** The cache directory of artifact-cli. */
export function cacheDir(): string {
  const explicit = Deno.env.get("ARTIFACT_CLI_CACHE_DIR");
  // `off` turns the content cache off; the small records still need a private home.
  if (explicit === "off") return join(tmpdir(), `artifact-cli-${Deno.uid() ?? "user"}`);
  if (explicit) return explicit;
  return defaultCacheDir() ?? join(".cache", "artifact-cli");
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
  /** What the cache file held when first read, plus what this process saw. */
  #data: Locations | undefined;
  /** What this process saw, kept apart so it survives a later first read. */
  readonly #mine: Locations = {};
  #dirty = false;

  constructor(readonly dir: string = cacheDir()) {}

  get #file(): string {
    return join(this.dir, "blob-locations.json");
  }

  async #read(): Promise<Locations> {
    try {
      const value = JSON.parse(await Deno.readTextFile(this.#file));
      return typeof value === "object" && value && !Array.isArray(value) ? value : {};
    } catch {
      return {};
    }
  }

  async #load(): Promise<Locations> {
    if (!this.#data) {
      const data = await this.#read();
      merge(data, this.#mine);
      this.#data ??= data;
    }
    return this.#data;
  }

  /** Repositories of `registry` known to hold `digest`, most recent first. */
  async repositoriesOf(registry: string, digest: string): Promise<string[]> {
    const data = await this.#load();
    const repos = data[registry]?.[digest];
    return Array.isArray(repos) ? repos.filter((r) => typeof r === "string") : [];
  }

  /** Note that `repository` of `registry` holds `digest`. */
  remember(registry: string, digest: string, repository: string): void {
    add(this.#mine, registry, digest, repository);
    if (this.#data) add(this.#data, registry, digest, repository);
    this.#dirty = true;
  }

  /** Write the cache back, merged with what other processes wrote meanwhile. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    const current = await this.#read();
    merge(current, this.#mine);
    try {
      await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.#file, new TextEncoder().encode(JSON.stringify(current)), 0o600);
      this.#dirty = false;
    } catch {
      // A cache that cannot be written only costs a future upload.
    }
  }
}

/** Record `repository` first for `digest`, within the bounds. */
function add(data: Locations, registry: string, digest: string, repository: string): void {
  let byDigest = data[registry];
  if (typeof byDigest !== "object" || byDigest === null || Array.isArray(byDigest)) {
    byDigest = data[registry] = {}; // a damaged entry is dropped, never fatal
  }
  const previous = byDigest[digest];
  const repos = (Array.isArray(previous) ? previous : []).filter((r) => r !== repository);
  // Re-inserting moves the digest to the end, so the oldest are dropped first.
  delete byDigest[digest];
  byDigest[digest] = [repository, ...repos].slice(0, MAX_REPOSITORIES_PER_DIGEST);
  const digests = Object.keys(byDigest);
  for (let i = 0; i < digests.length - MAX_DIGESTS_PER_REGISTRY; i++) delete byDigest[digests[i]];
}

/** Add everything in `from` to `into`, `from`'s entries counting as the most recent. */
function merge(into: Locations, from: Locations): void {
  for (const [registry, digests] of Object.entries(from)) {
    for (const [digest, repos] of Object.entries(digests)) {
      for (const repo of [...repos].reverse()) add(into, registry, digest, repo);
    }
  }
}
