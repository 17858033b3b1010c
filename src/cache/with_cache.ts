/**
 * A Target decorator that serves blobs from the local content store and
 * keeps every blob it downloads there, so a second pull of unchanged content
 * downloads nothing. Manifests are not cached: a tag must be re-resolved.
 * Cache trouble never fails a pull: the entry is skipped with one warning,
 * and work a corrupt entry spoiled is redone without it (CacheSession.run).
 *
 * @module
 */

import { observeBytes } from "../byte_streams.ts";
import { delegateTarget, type Target } from "../target.ts";
import { cacheSettings } from "./settings.ts";
import { type CacheWriter, ContentStore, CorruptCacheEntryError } from "./content_store.ts";
import type { Descriptor } from "../oci/types.ts";

/** Open the store the settings name; undefined (with one warning) if it is off or unusable. */
export async function openCache(
  warn: (message: string) => void,
  env?: Record<string, string | undefined>,
): Promise<ContentStore | undefined> {
  const settings = cacheSettings(env);
  if (!settings.dir) return undefined;
  try {
    return await ContentStore.open(settings.dir, settings.maxBytes);
  } catch (e) {
    warn(`content cache ${settings.dir} is not usable, continuing without it (${errorText(e)})`);
    return undefined;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The cache for one command: wraps its remote targets and redoes work that a
 * corrupt entry spoiled. Entries are served verified while they stream (no
 * pass over the entry before the first byte); a mismatch is only known at
 * the end, after the consumer saw the bytes, so {@link CacheSession.run}
 * catches the failure and runs the work once more, this time checking every
 * entry before serving it. The work must be safe to repeat (a pull writes
 * into a staging directory; a copy skips blobs already copied).
 */
export class CacheSession {
  #warned = false;
  #checkFirst = false;
  #corrupt: CorruptCacheEntryError | undefined;
  /** Entries served in the current attempt whose stream has not been verified to its end. */
  readonly #unverified = new Map<string, Descriptor>();

  /** A session over `store` (undefined: no cache, everything passes through). */
  constructor(readonly store: ContentStore | undefined, readonly warn: (message: string) => void) {}

  /** A command's session: the configured store when `enabled` (false for `--no-cache`). */
  static async open(enabled: boolean, warn: (message: string) => void): Promise<CacheSession> {
    return new CacheSession(enabled ? await openCache(warn) : undefined, warn);
  }

  /** Evict down to the cap after a command; trouble is ignored (the next command tries again). */
  async evict(): Promise<void> {
    await this.store?.prune().catch(() => {});
  }

  #warnOnce(message: string): void {
    if (this.#warned) return;
    this.#warned = true;
    this.warn(message);
  }

  /**
   * Run `work`; if it fails after a corrupt entry was served (or any served
   * entry turns out corrupt), warn once and run it again with entries checked
   * before they are served. Other failures pass through unchanged.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.#unverified.clear();
    this.#corrupt = undefined;
    try {
      return await work();
    } catch (e) {
      if (!this.store || this.#checkFirst) throw e;
      // The failure may be a symptom (a gzip or tar error) of bad cached bytes.
      let corrupt: CorruptCacheEntryError | undefined = this.#corrupt;
      for (const descriptor of this.#unverified.values()) {
        if (!(await this.store.verify(descriptor))) {
          corrupt ??= new CorruptCacheEntryError(descriptor, new Error("digest mismatch"));
        }
      }
      if (!corrupt) throw e;
      this.#warnOnce(`${corrupt.message}; removed, downloading again`);
      this.#checkFirst = true;
      this.#unverified.clear();
      return await work();
    }
  }

  async #cached(descriptor: Descriptor): Promise<ReadableStream<Uint8Array> | undefined> {
    const store = this.store!;
    if (this.#checkFirst && !(await store.verify(descriptor))) return undefined;
    const stream = await store.read(descriptor, {
      onCorrupt: (e) => {
        // Warned at once: the work may recover by itself (a copy that reads the blob again).
        this.#warnOnce(`${e.message}; removed, downloading again`);
        this.#corrupt ??= e;
        this.#unverified.delete(descriptor.digest);
      },
      onVerified: () => this.#unverified.delete(descriptor.digest),
    });
    if (stream) this.#unverified.set(descriptor.digest, descriptor);
    return stream;
  }

  /** `target` with blob reads going through the store (local targets are returned as they are). */
  wrap(target: Target): Target {
    const store = this.store;
    if (!store || target.local) return target;
    const fetchBlob: Target["fetchBlob"] = async (descriptor) => {
      let cached: ReadableStream<Uint8Array> | undefined;
      try {
        cached = await this.#cached(descriptor);
      } catch (e) {
        this.#warnOnce(`content cache read failed, downloading instead (${errorText(e)})`);
      }
      if (cached) return cached;
      return this.#filling(descriptor, await target.fetchBlob(descriptor));
    };
    return delegateTarget(target, { fetchBlob });
  }

  /** `stream` (a download), written into the store on the way; write trouble only warns. */
  #filling(descriptor: Descriptor, stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    let writer: CacheWriter | undefined;
    const drop = (e: unknown) => {
      writer?.abort();
      writer = undefined;
      this.#warnOnce(`content cache write failed, continuing without it (${errorText(e)})`);
    };
    try {
      writer = this.store!.writer(descriptor);
    } catch (e) {
      drop(e);
    }
    if (!writer) return stream;
    return observeBytes(stream, {
      chunk(view) {
        try {
          writer?.write(view);
        } catch (e) {
          drop(e);
        }
      },
      end() {
        try {
          writer?.commit();
        } catch (e) {
          drop(e);
        }
      },
      // A download that failed its check (or was cancelled) leaves no temporary file.
      stopped() {
        writer?.abort();
        writer = undefined;
      },
    });
  }
}
