/**
 * Deterministic, block-parallelisable compression of layer streams.
 *
 * gzip output is one gzip member whose deflate stream is a concatenation of
 * independently compressed 1 MiB blocks, each ended with a sync flush (the
 * `pigz --independent` layout), then an empty final block. Because no block
 * depends on another, blocks can be compressed on any number of workers and
 * the bytes are the same whatever the scheduling (see compress_pool.ts for
 * the workers). A block that does not shrink, or whose samples show it is
 * incompressible (block_codec.ts), is stored instead, which keeps random data
 * fast and never expands it by more than the stored-block headers.
 *
 * zstd output is a sequence of independent zstd frames, one per block.
 *
 * @module
 */

import zlib from "node:zlib";
import type { LayerCompression } from "../oci/media_types.ts";
import { type BlockCompression, type CodecState, compressBlockWith } from "./block_codec.ts";
import type { BufferPool } from "./buffer_pool.ts";

/** Uncompressed bytes per independently compressed block. Changing it changes digests. */
export const COMPRESSION_BLOCK_SIZE = 1024 * 1024;

/** Default gzip level (as imgpkg and most registries' clients use). */
export const DEFAULT_GZIP_LEVEL = 6;
/** Default zstd level. */
export const DEFAULT_ZSTD_LEVEL = 3;

/**
 * Compresses blocks for {@link compressStream}: on this thread, or on
 * workers ({@link CompressorPool}).
 */
export interface BlockCompressor {
  /** Compress one block independently of all others; the block is handed over. */
  compress(block: Uint8Array, compression: BlockCompression, level: number): Promise<Uint8Array>;
  /** An output of `compress` is no longer used; its memory may be reused. */
  release?(output: Uint8Array): void;
  /** Recycled buffers of {@link COMPRESSION_BLOCK_SIZE} bytes for input blocks. */
  readonly inputBuffers?: BufferPool;
}

/** Options for {@link compressStream}. */
export interface CompressOptions {
  compression: LayerCompression;
  /** gzip 1-9, zstd 1-19; defaults per algorithm. */
  level?: number;
  /** Who compresses the blocks; default: this thread, one block at a time. */
  compressor?: BlockCompressor;
  /** Blocks being compressed at once (default 1); bounds memory to about 2 MiB per block. */
  parallelism?: number;
  /**
   * The source yields fresh buffers it never touches again, so a block may be
   * handed over (transferred to a worker) without a copy. Otherwise every
   * block is copied into a buffer of the stream's own.
   */
  ownsChunks?: boolean;
  /**
   * The consumer is done with each yielded chunk when it asks for the next
   * one (it neither keeps nor queues chunks), so output buffers are reused.
   */
  recycleOutput?: boolean;
}

// 10-byte gzip header: no name, mtime 0, XFL 0, OS 255 (unknown): fixed bytes.
const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
// An empty final deflate block with fixed Huffman codes: BFINAL=1, BTYPE=01, EOB.
const DEFLATE_FINAL_EMPTY = new Uint8Array([0x03, 0x00]);

const codecState: CodecState = {};

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
  compression: BlockCompression,
  level: number,
): Uint8Array {
  return compressBlockWith(zlib, codecState, block, compression, level);
}

const inThread: BlockCompressor = {
  compress: (block, compression, level) =>
    Promise.resolve(compressBlockSync(block, compression, level)),
};

/**
 * Compress a byte stream. Blocks are submitted to the compressor with up to
 * `parallelism` in flight and emitted in order, each as soon as it and all
 * blocks before it are done. A block may be transferred to a worker; see
 * {@link CompressOptions.ownsChunks}.
 *
 * @example
 * ```ts
 * import { compressStream } from "./compress.ts";
 * let size = 0;
 * for await (const c of compressStream([new Uint8Array(5000)], { compression: "gzip" })) {
 *   size += c.byteLength;
 * }
 * console.assert(size < 5000);
 * ```
 */
export async function* compressStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: CompressOptions,
): AsyncGenerator<Uint8Array> {
  if (options.compression === "none") {
    yield* source;
    return;
  }
  const compression = options.compression;
  const level = options.level ??
    (compression === "gzip" ? DEFAULT_GZIP_LEVEL : DEFAULT_ZSTD_LEVEL);
  const compressor = options.compressor ?? inThread;
  const release = options.recycleOutput ? compressor.release?.bind(compressor) : undefined;
  const parallelism = Math.max(1, options.parallelism ?? 1);
  const inFlight: { done: boolean; result: Promise<Uint8Array> }[] = [];
  let crc = 0;
  let total = 0;

  if (compression === "gzip") yield GZIP_HEADER;
  const blocks = reblock(source, COMPRESSION_BLOCK_SIZE, {
    passThrough: options.ownsChunks,
    buffers: compressor.inputBuffers,
  });
  for await (const block of blocks) {
    if (compression === "gzip") {
      crc = zlib.crc32(block, crc);
      total += block.byteLength;
    }
    const pending = { done: false, result: compressor.compress(block, compression, level) };
    // Also marks a rejection as handled until it is awaited in order.
    pending.result.then(() => pending.done = true, () => pending.done = true);
    inFlight.push(pending);
    while (inFlight.length && (inFlight.length >= parallelism || inFlight[0].done)) {
      const out = await inFlight.shift()!.result;
      yield out;
      release?.(out);
    }
  }
  while (inFlight.length) {
    const out = await inFlight.shift()!.result;
    yield out;
    release?.(out);
  }
  if (compression === "gzip") {
    yield DEFLATE_FINAL_EMPTY;
    const trailer = new Uint8Array(8);
    const view = new DataView(trailer.buffer);
    view.setUint32(0, crc >>> 0, true);
    view.setUint32(4, total % 2 ** 32, true);
    yield trailer;
  }
}

/** Options for {@link reblock}. */
export interface ReblockOptions {
  /** Source chunks of exactly the block size are yielded as they are, not copied. */
  passThrough?: boolean;
  /** Where fresh blocks come from (recycled buffers of the block size). */
  buffers?: BufferPool;
}

/**
 * Regroup a stream into fresh blocks of exactly `size` bytes (the last may be
 * shorter).
 */
export async function* reblock(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  options: ReblockOptions = {},
): AsyncGenerator<Uint8Array> {
  const fresh = () =>
    options.buffers?.size === size ? options.buffers.take() : new Uint8Array(size);
  let buffer: Uint8Array | undefined;
  let fill = 0;
  let emitted = false;
  for await (const chunk of source) {
    let pos = 0;
    if (options.passThrough && fill === 0 && chunk.byteLength === size) {
      emitted = true;
      yield chunk;
      continue;
    }
    while (pos < chunk.byteLength) {
      buffer ??= fresh();
      const take = Math.min(size - fill, chunk.byteLength - pos);
      buffer.set(chunk.subarray(pos, pos + take), fill);
      fill += take;
      pos += take;
      if (fill === size) {
        emitted = true;
        yield buffer;
        buffer = undefined;
        fill = 0;
      }
    }
  }
  if (fill > 0 || !emitted) yield (buffer ?? fresh()).subarray(0, fill);
}
