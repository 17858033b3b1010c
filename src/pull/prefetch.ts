/**
 * Downloading later layers while the current one is extracted. Layers must
 * be applied in order, but their transfers need not wait: up to
 * `concurrency - 1` layers ahead are fetched (and verified) into staging
 * files, so a pull of a many-layer image is bound by the slower of network
 * and disk rather than by their sum. Memory stays constant: downloads
 * stream to disk through one reused buffer each. Disk stays bounded too:
 * what is staged at once never exceeds the pull's size limit (`--max-size`),
 * by the layers' declared sizes, which the download verifies; a layer that
 * does not fit is streamed when its turn comes instead.
 *
 * @module
 */

import { join } from "node:path";
import { eachChunk } from "../byte_streams.ts";
import type { Descriptor } from "../oci/types.ts";
import { fileStream, type Target } from "../target.ts";

/**
 * Opens layers in order, prefetching the next ones.
 *
 * @example
 * ```ts ignore
 * await using layers = await LayerPrefetcher.create(target, manifest.layers, 4);
 * const reading = layers.wrap(target); // fetchBlob in layer order, prefetched
 * for (const layer of manifest.layers) apply(await reading.fetchBlob(layer));
 * ```
 */
export class LayerPrefetcher implements AsyncDisposable {
  readonly #downloads = new Map<number, Promise<string>>();
  #next = 1;
  #cursor = 0;
  #closed = false;
  #staged = 0;

  private constructor(
    readonly target: Target,
    readonly layers: readonly Descriptor[],
    readonly concurrency: number,
    readonly dir: string | undefined,
    readonly maxStagedBytes: number,
  ) {}

  /**
   * A prefetcher for `layers`. Nothing is staged when `concurrency` is 1,
   * there is one layer, or the target is local (a layout is read in place).
   */
  static async create(
    target: Target,
    layers: readonly Descriptor[],
    concurrency: number,
    maxStagedBytes: number = Number.MAX_SAFE_INTEGER,
  ): Promise<LayerPrefetcher> {
    const prefetch = concurrency > 1 && layers.length > 1 && !target.local;
    const dir = prefetch ? await Deno.makeTempDir({ prefix: "artifact-cli-pull-" }) : undefined;
    return new LayerPrefetcher(target, layers, prefetch ? concurrency : 1, dir, maxStagedBytes);
  }

  /**
   * `target` with blob reads served in layer order: each fetchBlob must ask
   * for the next layer, and gets it from its staging file when it was
   * fetched ahead. Anything else goes to `target` itself.
   */
  wrap(target: Target): Target {
    return new Proxy(target, {
      get: (inner, property) => {
        if (property === "fetchBlob") return (d: Descriptor) => this.openNext(d);
        const value = Reflect.get(inner, property);
        return typeof value === "function" ? value.bind(inner) : value;
      },
    });
  }

  /** The next layer's verified content; `descriptor` must be that layer. */
  openNext(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>> {
    const index = this.#cursor;
    if (this.layers[index]?.digest !== descriptor.digest) {
      // Not the expected order (a caller reading a blob twice): no prefetching for it.
      return this.target.fetchBlob(descriptor);
    }
    this.#cursor++;
    return this.open(index);
  }

  /** The verified content of `layers[index]`; open them in order. */
  async open(index: number): Promise<ReadableStream<Uint8Array>> {
    const ahead = this.concurrency - 1;
    // Only layers after this one are fetched ahead; this one streams if not staged.
    if (this.#next <= index) this.#next = index + 1;
    while (this.#next < this.layers.length && this.#next <= index + ahead) {
      const size = this.layers[this.#next].size;
      if (this.#staged + size > this.maxStagedBytes) break; // streamed when its turn comes
      this.#staged += size;
      const i = this.#next++;
      const download = this.#download(i);
      download.catch(() => {}); // surfaced when the layer is opened
      this.#downloads.set(i, download);
    }
    const staged = this.#downloads.get(index);
    if (!staged) return await this.target.fetchBlob(this.layers[index]);
    this.#downloads.delete(index);
    this.#staged -= this.layers[index].size;
    const path = await staged;
    const file = await Deno.open(path, { read: true });
    await Deno.remove(path); // the open descriptor keeps the content readable
    return fileStream(file);
  }

  async #download(index: number): Promise<string> {
    const path = join(this.dir!, `layer-${index}`);
    const blob = await this.target.fetchBlob(this.layers[index]);
    using file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    await eachChunk(blob, async (chunk) => {
      if (this.#closed) throw new Error("pull ended");
      let written = 0;
      while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
    });
    return path;
  }

  /** Stop downloads still running and remove the staging files. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#downloads.values());
    this.#downloads.clear();
    if (this.dir) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
