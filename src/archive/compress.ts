/**
 * Deterministic, block-parallelisable compression of layer streams.
 *
 * gzip output is one gzip member whose deflate stream is a concatenation of
 * independently compressed 1 MiB blocks, each ended with a sync flush (the
 * `pigz --independent` layout), then an empty final block. Because no block
 * depends on another, blocks can be compressed on any number of workers and
 * the bytes are the same whatever the scheduling. A block that does not
 * shrink is stored instead, which keeps random data fast and never expands it
 * by more than the stored-block headers.
 *
 * zstd output is a sequence of independent zstd frames, one per block.
 *
 * @module
 */

import zlib from "node:zlib";
import type { LayerCompression } from "../oci/media_types.ts";

/** Uncompressed bytes per independently compressed block. Changing it changes digests. */
export const COMPRESSION_BLOCK_SIZE = 1024 * 1024;

/** Default gzip level (as imgpkg and most registries' clients use). */
export const DEFAULT_GZIP_LEVEL = 6;
/** Default zstd level. */
export const DEFAULT_ZSTD_LEVEL = 3;

/** Options for {@link compressStream}. */
export interface CompressOptions {
  compression: LayerCompression;
  /** gzip 1-9, zstd 1-19; defaults per algorithm. */
  level?: number;
  /** Compresses one block; the default runs in this thread. Workers plug in here. */
  compressBlock?: BlockCompressor;
}

/** Compress one block independently of all others. */
export type BlockCompressor = (
  block: Uint8Array,
  compression: "gzip" | "zstd",
  level: number,
) => Promise<Uint8Array>;

// 10-byte gzip header: no name, mtime 0, XFL 0, OS 255 (unknown): fixed bytes.
const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
// An empty final deflate block with fixed Huffman codes: BFINAL=1, BTYPE=01, EOB.
const DEFLATE_FINAL_EMPTY = new Uint8Array([0x03, 0x00]);

/**
 * Compress one block the way {@link compressStream} does, in this thread.
 *
 * @example
 * ```ts
 * import { compressBlockSync } from "./compress.ts";
 * const out = compressBlockSync(new Uint8Array(1000), "gzip", 6);
 * console.assert(out.byteLength < 1000);
 * ```
 */
export function compressBlockSync(
  block: Uint8Array,
  compression: "gzip" | "zstd",
  level: number,
): Uint8Array {
  if (compression === "zstd") {
    return zlib.zstdCompressSync(block, {
      params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
    });
  }
  const deflated = zlib.deflateRawSync(block, {
    level,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  return deflated.byteLength < block.byteLength ? deflated : storedBlocks(block);
}

/** Deflate "stored" (uncompressed) blocks, byte-aligned, not final. */
function storedBlocks(data: Uint8Array): Uint8Array {
  const pieces = Math.max(1, Math.ceil(data.byteLength / 65535));
  const out = new Uint8Array(data.byteLength + pieces * 5);
  let o = 0;
  for (let i = 0; i < pieces; i++) {
    const piece = data.subarray(i * 65535, Math.min(data.byteLength, (i + 1) * 65535));
    const len = piece.byteLength;
    out[o++] = 0x00;
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(piece, o);
    o += len;
  }
  return out;
}

const defaultCompressor: BlockCompressor = (block, compression, level) =>
  Promise.resolve(compressBlockSync(block, compression, level));

/**
 * Compress a byte stream. Blocks are submitted to `compressBlock` with up to
 * `parallelism` in flight and emitted in order.
 */
export async function* compressStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: CompressOptions & { parallelism?: number },
): AsyncGenerator<Uint8Array> {
  if (options.compression === "none") {
    yield* source;
    return;
  }
  const compression = options.compression;
  const level = options.level ??
    (compression === "gzip" ? DEFAULT_GZIP_LEVEL : DEFAULT_ZSTD_LEVEL);
  const compress = options.compressBlock ?? defaultCompressor;
  const parallelism = Math.max(1, options.parallelism ?? 1);
  const inFlight: Promise<Uint8Array>[] = [];
  let crc = 0;
  let total = 0;

  if (compression === "gzip") yield GZIP_HEADER;
  for await (const block of reblock(source, COMPRESSION_BLOCK_SIZE)) {
    if (compression === "gzip") {
      crc = zlib.crc32(block, crc);
      total += block.byteLength;
    }
    inFlight.push(compress(block, compression, level));
    if (inFlight.length >= parallelism) yield await inFlight.shift()!;
  }
  while (inFlight.length) yield await inFlight.shift()!;
  if (compression === "gzip") {
    yield DEFLATE_FINAL_EMPTY;
    const trailer = new Uint8Array(8);
    const view = new DataView(trailer.buffer);
    view.setUint32(0, crc >>> 0, true);
    view.setUint32(4, total % 2 ** 32, true);
    yield trailer;
  }
}

/** Regroup a stream into blocks of exactly `size` bytes (the last may be shorter). */
export async function* reblock(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(size);
  let fill = 0;
  let emitted = false;
  for await (const chunk of source) {
    let pos = 0;
    if (fill === 0 && chunk.byteLength === size) {
      emitted = true;
      yield chunk;
      continue;
    }
    while (pos < chunk.byteLength) {
      const take = Math.min(size - fill, chunk.byteLength - pos);
      buffer.set(chunk.subarray(pos, pos + take), fill);
      fill += take;
      pos += take;
      if (fill === size) {
        emitted = true;
        yield buffer;
        buffer = new Uint8Array(size);
        fill = 0;
      }
    }
  }
  if (fill > 0 || !emitted) yield buffer.subarray(0, fill);
}
