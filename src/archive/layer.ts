/**
 * Building a layer blob: pack a tree as tar, compress it, and compute both the
 * uncompressed `diff_id` and the compressed digest in the same single pass,
 * writing the blob to a staging file (never holding it in memory).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Digest } from "../oci/digest.ts";
import { type LayerCompression, ociLayerMediaType } from "../oci/media_types.ts";
import type { Descriptor } from "../oci/types.ts";
import { BufferPool } from "./buffer_pool.ts";
import { type BlockCompressor, compressStream } from "./compress.ts";
import { PACK_CHUNK, packTar } from "./tar_pack.ts";
import type { TreeEntry } from "./tree_list.ts";

/** A layer blob written to a staging file. */
export interface StagedLayer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
  diffId: Digest;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  /** Where the compressed blob is. */
  path: string;
}

/** Options for {@link buildTarLayer}. */
export interface BuildLayerOptions {
  compression: LayerCompression;
  level?: number;
  /** Directory for the staging file. */
  stagingDir: string;
  /** Blocks compressed at once (workers); default 1. */
  parallelism?: number;
  /** Who compresses blocks (e.g. a CompressorPool); default: this thread. */
  compressor?: BlockCompressor;
  /** Called with uncompressed bytes packed so far. */
  onProgress?: (bytes: number) => void;
}

/**
 * Pack `entries` into a compressed tar layer in `stagingDir`.
 *
 * @example
 * ```ts
 * import { collectTree } from "./walk.ts";
 * import { buildTarLayer } from "./layer.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * const layer = await buildTarLayer(collectTree([dir]), {
 *   compression: "gzip", stagingDir: await Deno.makeTempDir(),
 * });
 * console.assert(layer.descriptor.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip");
 * ```
 */
export async function buildTarLayer(
  entries: Iterable<TreeEntry>,
  options: BuildLayerOptions,
): Promise<StagedLayer> {
  const diffHash = createHash("sha256");
  const blobHash = createHash("sha256");
  let uncompressedSize = 0;
  const onProgress = options.onProgress;
  const buffers = options.compressor?.inputBuffers ?? new BufferPool(PACK_CHUNK, 2);
  async function* hashedTar(): AsyncGenerator<Uint8Array> {
    for await (const chunk of packTar(entries, { buffers })) {
      diffHash.update(chunk);
      uncompressedSize += chunk.byteLength;
      onProgress?.(uncompressedSize);
      yield chunk;
    }
  }
  const path = join(options.stagingDir, `layer-${crypto.randomUUID()}`);
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  let size = 0;
  try {
    const compressed = compressStream(hashedTar(), {
      compression: options.compression,
      level: options.level,
      parallelism: options.parallelism,
      compressor: options.compressor,
      // packTar yields a fresh buffer per chunk, so blocks can go to workers uncopied.
      ownsChunks: true,
      // Each chunk is written before the next is asked for.
      recycleOutput: true,
    });
    for await (const chunk of compressed) {
      blobHash.update(chunk);
      size += chunk.byteLength;
      let written = 0;
      while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
      // Uncompressed, the chunks are the packer's own buffers: recycle them.
      if (options.compression === "none") buffers.give(chunk);
    }
  } finally {
    file.close();
  }
  return {
    descriptor: {
      mediaType: ociLayerMediaType(options.compression),
      digest: `sha256:${blobHash.digest("hex")}`,
      size,
    },
    diffId: `sha256:${diffHash.digest("hex")}`,
    uncompressedSize,
    path,
  };
}
