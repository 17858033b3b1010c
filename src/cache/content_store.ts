/**
 * A local content store keyed by digest: an OCI layout (`oci-layout`,
 * `index.json`, `blobs/<alg>/<hex>`) under the cache directory. Entries are
 * written to a temporary file, checked against digest and size while being
 * written, fsynced and renamed into place, so a reader never sees half a blob.
 * Use touches an entry's mtime: eviction removes the least recently used.
 *
 * @module
 */

import { join } from "node:path";
import { digestAlgorithm, digestHex, DigestVerifier } from "../oci/digest.ts";
import type { Descriptor } from "../oci/types.ts";
import { fileStream } from "../target.ts";

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
   * The entry's content if present and intact; undefined if absent. A corrupt
   * entry (wrong size or digest) is removed and reported as `"corrupt"`.
   */
  async read(descriptor: Descriptor): Promise<ReadableStream<Uint8Array> | "corrupt" | undefined> {
    const path = this.pathOf(descriptor);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return undefined;
    }
    // Verify before serving: a consumer must never see bytes it has to throw away.
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size, "cached blob");
    try {
      for await (const chunk of fileStream(file)) verifier.update(chunk);
      verifier.finish();
    } catch {
      await Deno.remove(path).catch(() => {});
      return "corrupt";
    }
    const now = new Date();
    await Deno.utime(path, now, now).catch(() => {});
    return fileStream(await Deno.open(path, { read: true }));
  }

  /** Start writing an entry (synchronous writes: called from a stream's chunk callback). */
  writer(descriptor: Descriptor): CacheWriter {
    const final = this.pathOf(descriptor);
    Deno.mkdirSync(join(final, ".."), { recursive: true });
    const temp = Deno.makeTempFileSync({ dir: join(final, ".."), prefix: ".tmp-" });
    const file = Deno.openSync(temp, { write: true, truncate: true });
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size, "cache entry");
    let open = true;
    const close = () => {
      if (open) file.close();
      open = false;
    };
    return {
      write(chunk) {
        verifier.update(chunk);
        let offset = 0;
        while (offset < chunk.byteLength) offset += file.writeSync(chunk.subarray(offset));
      },
      commit() {
        verifier.finish();
        file.syncSync();
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
