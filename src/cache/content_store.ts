/**
 * A local content store keyed by digest: an OCI layout (`oci-layout`,
 * `index.json`, `blobs/<alg>/<hex>`) under the cache directory. Entries are
 * written to a temporary file while the download streams and renamed into
 * place only once the download's own verification has passed, so a reader
 * never sees half a blob. They are not fsynced: a blob torn by a power cut
 * fails the verification of its next read and is downloaded again, so
 * durability would buy nothing but time (~0.3 s per 318 MiB measured).
 * Reads are verified while they stream (no extra pass before the first byte);
 * a mismatch fails the stream at its end, before the consumer accepts it.
 * Use touches an entry's mtime: eviction removes the least recently used.
 *
 * @module
 */

import { join } from "node:path";
import { digestAlgorithm, digestHex, DigestVerifier } from "../oci/digest.ts";
import type { Descriptor } from "../oci/types.ts";
import { fileStream } from "../target.ts";
import { eachChunk, observeBytes } from "../byte_streams.ts";
import { IntegrityError } from "../errors.ts";

/**
 * A cache entry did not match its descriptor while it was served; the entry
 * is already removed. The work that read it must be redone without it.
 */
export class CorruptCacheEntryError extends IntegrityError {
  /** The entry `descriptor` names was corrupt; `cause` says how. */
  constructor(readonly descriptor: Descriptor, cause: unknown) {
    super(
      `content cache entry ${descriptor.digest} was corrupt (${
        cause instanceof Error ? cause.message : String(cause)
      })`,
      { cause },
    );
  }
}

/** Size and count of a store's entries. */
export interface CacheInfo {
  dir: string;
  entries: number;
  bytes: number;
  maxBytes: number;
}

/** An entry being written; `commit` verifies and renames it into place. */
export interface CacheWriter {
  write(chunk: Uint8Array): void;
  commit(): void;
  abort(): void;
}

/** The content store; {@link ContentStore.open} fails when the directory is unusable. */
export class ContentStore {
  private constructor(readonly dir: string, readonly maxBytes: number) {}

  /** Open (create) the store; throws if the directory cannot be created or written. */
  static async open(dir: string, maxBytes: number): Promise<ContentStore> {
    await Deno.mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    const layout = join(dir, "oci-layout");
    try {
      await Deno.stat(layout);
    } catch {
      await Deno.writeTextFile(layout, '{"imageLayoutVersion":"1.0.0"}');
      await Deno.writeTextFile(
        join(dir, "index.json"),
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
      );
    }
    // Prove the directory is writable now, not halfway through a pull.
    const probe = await Deno.makeTempFile({ dir, prefix: ".probe-" });
    await Deno.remove(probe);
    return new ContentStore(dir, maxBytes);
  }

  /** Path of a blob's entry. */
  pathOf(descriptor: Descriptor): string {
    return join(
      this.dir,
      "blobs",
      digestAlgorithm(descriptor.digest),
      digestHex(descriptor.digest),
    );
  }

  /**
   * The entry's content, verified while it streams (as a layout's blob is),
   * or undefined if there is no entry. A read that does not match the
   * descriptor (wrong size or digest) removes the entry and fails the stream
   * with {@link CorruptCacheEntryError} before signalling its end, so a
   * consumer never accepts the bytes; `onCorrupt` is told first.
   */
  async read(
    descriptor: Descriptor,
    events: { onCorrupt?: (e: CorruptCacheEntryError) => void; onVerified?: () => void } = {},
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    const path = this.pathOf(descriptor);
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(path, { read: true });
      // Only a regular file is an entry (a directory in the way is not one).
      if (!(await file.stat()).isFile) throw new Error("not a file");
    } catch {
      file?.close();
      return undefined;
    }
    const now = new Date();
    await Deno.utime(path, now, now).catch(() => {});
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size, "cached blob");
    const corrupt = (e: unknown): never => {
      try {
        Deno.removeSync(path);
      } catch { /* already gone */ }
      const error = new CorruptCacheEntryError(descriptor, e);
      events.onCorrupt?.(error);
      throw error;
    };
    return observeBytes(fileStream(file), {
      chunk(view) {
        try {
          verifier.update(view);
        } catch (e) {
          corrupt(e);
        }
      },
      end() {
        try {
          verifier.finish();
        } catch (e) {
          corrupt(e);
        }
        events.onVerified?.();
      },
    });
  }

  /** Hash the whole entry: true if intact or absent; a corrupt entry is removed (false). */
  async verify(descriptor: Descriptor): Promise<boolean> {
    const path = this.pathOf(descriptor);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return true;
    }
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size, "cached blob");
    try {
      await eachChunk(fileStream(file), (chunk) => verifier.update(chunk));
      verifier.finish();
      return true;
    } catch {
      await Deno.remove(path).catch(() => {});
      return false;
    }
  }

  /**
   * Start writing an entry (synchronous writes: called from a stream's chunk
   * callback). The bytes must come from a verified stream (a Target's
   * `fetchBlob`, which never ends cleanly on content that does not match):
   * hashing them a second time cost ~0.2 s per 318 MiB, so the writer only
   * checks the size and `commit` must be called only after that stream ended.
   */
  writer(descriptor: Descriptor): CacheWriter {
    const final = this.pathOf(descriptor);
    Deno.mkdirSync(join(final, ".."), { recursive: true });
    const temp = Deno.makeTempFileSync({ dir: join(final, ".."), prefix: ".tmp-" });
    const file = Deno.openSync(temp, { write: true, truncate: true });
    let written = 0;
    let open = true;
    const close = () => {
      if (open) file.close();
      open = false;
    };
    return {
      write(chunk) {
        written += chunk.byteLength;
        if (written > descriptor.size) {
          throw new IntegrityError(`cache entry: more than the expected ${descriptor.size} bytes`);
        }
        let offset = 0;
        while (offset < chunk.byteLength) offset += file.writeSync(chunk.subarray(offset));
      },
      commit() {
        if (written !== descriptor.size) {
          throw new IntegrityError(
            `cache entry: expected ${descriptor.size} bytes, got ${written} (truncated)`,
          );
        }
        close();
        Deno.renameSync(temp, final);
      },
      abort() {
        close();
        try {
          Deno.removeSync(temp);
        } catch { /* already gone */ }
      },
    };
  }

  async #entries(): Promise<{ path: string; size: number; used: number }[]> {
    const out: { path: string; size: number; used: number }[] = [];
    const blobs = join(this.dir, "blobs");
    for await (const alg of Deno.readDir(blobs)) {
      if (!alg.isDirectory) continue;
      for await (const entry of Deno.readDir(join(blobs, alg.name))) {
        if (!entry.isFile) continue;
        const path = join(blobs, alg.name, entry.name);
        const stat = await Deno.stat(path).catch(() => undefined);
        if (entry.name.startsWith(".")) {
          // A download that failed or was cancelled leaves its temporary file behind.
          const age = Date.now() - (stat?.mtime?.getTime() ?? Date.now());
          if (age > 3600_000) await Deno.remove(path).catch(() => {});
          continue;
        }
        if (stat) out.push({ path, size: stat.size, used: stat.mtime?.getTime() ?? 0 });
      }
    }
    return out;
  }

  /** Entries and bytes held. */
  async info(): Promise<CacheInfo> {
    const entries = await this.#entries();
    return {
      dir: this.dir,
      entries: entries.length,
      bytes: entries.reduce((n, e) => n + e.size, 0),
      maxBytes: this.maxBytes,
    };
  }

  /**
   * Remove least recently used entries until at most `maxBytes` remain
   * (default: the cap; 0 empties the store). Returns what was removed.
   */
  async prune(maxBytes: number = this.maxBytes): Promise<{ entries: number; bytes: number }> {
    const entries = (await this.#entries()).sort((a, b) => a.used - b.used);
    let total = entries.reduce((n, e) => n + e.size, 0);
    const removed = { entries: 0, bytes: 0 };
    for (const entry of entries) {
      if (total <= maxBytes) break;
      await Deno.remove(entry.path).catch(() => {});
      total -= entry.size;
      removed.entries++;
      removed.bytes += entry.size;
    }
    return removed;
  }
}
