/**
 * Compressing one block: the single function that both the main thread and
 * the compression workers run, so output is byte-identical wherever a block
 * is compressed.
 *
 * @module
 */

import type zlibModule from "node:zlib";

/** The node:zlib module, passed in so the codec has no imports of its own. */
export type Zlib = typeof zlibModule;

/** Algorithms that compress block by block. */
export type BlockCompression = "gzip" | "zstd";

/** Per-thread reusable compressor engines; create one with `{}` and keep it. */
export type CodecState = Record<string, unknown>;

/** Room an output buffer needs beyond the block size (zstd's worst-case expansion). */
export const OUTPUT_SLACK = 64 * 1024;

/**
 * Compress one block independently of all others: gzip blocks are raw
 * deflate ending in a sync flush (or stored blocks when deflate would not
 * shrink the data), zstd blocks are one frame each. The result is a view of
 * `out` when it fits there (give `out` of block size + {@link OUTPUT_SLACK}
 * bytes), otherwise a new array.
 *
 * Incompressible data (media, archives, encrypted or random bytes) is
 * detected cheaply before running deflate over the whole block: four 16 KiB
 * samples spread over the block are deflated at level 1, and when none of
 * them shrinks below 97 % the block is stored. zlib runs at ~90 MiB/s on
 * random data but the samples cost 1/16 of that. The decision depends on the
 * block's bytes only, so output stays deterministic.
 *
 * Engines are driven through node:zlib's handle (`_handle.writeSync`, the
 * same calls node:zlib's own sync functions make), reset between blocks and
 * writing straight into `out`, so a block costs no allocation at all: without
 * that, every block would leave a megabyte of garbage and V8 lets ~64 MiB of
 * it pile up per thread before collecting. The output window advances in
 * 16 KiB steps exactly as `deflateRawSync`/`zstdCompressSync` do (some levels'
 * output depends on it), and when the handle is missing those public
 * functions are used instead: the bytes are the same either way (tested).
 *
 * This function MUST stay self-contained (no references to anything outside
 * its own body but its parameters): the worker pool ships its source text,
 * `compressBlockWith.toString()`, to the workers, which works the same from
 * source, from `deno bundle` output and from `deno compile` binaries.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { compressBlockWith } from "./block_codec.ts";
 * const out = compressBlockWith(zlib, {}, new Uint8Array(1000), "gzip", 6);
 * console.assert(out.byteLength < 1000);
 * ```
 */
export function compressBlockWith(
  zlib: Zlib,
  state: CodecState,
  block: Uint8Array,
  compression: BlockCompression,
  level: number,
  out?: Uint8Array,
): Uint8Array {
  // Output window per engine call, as node:zlib's default chunkSize.
  const WINDOW = 16 * 1024;
  const SAMPLE = 16 * 1024;
  const SAMPLES = 4;
  const scratch = out && out.byteLength >= block.byteLength + WINDOW
    ? out
    : new Uint8Array(block.byteLength + 64 * 1024);

  if (compression === "zstd") {
    // zstd detects incompressible input itself, at ~2 GiB/s.
    const params = { [zlib.constants.ZSTD_c_compressionLevel]: level };
    const n = run(`zstd${level}`, () => zlib.createZstdCompress({ params }), block);
    return n >= 0 ? scratch.subarray(0, n) : zlib.zstdCompressSync(block, { params });
  }
  if (block.byteLength >= 4 * SAMPLE * SAMPLES) {
    let compressible = false;
    for (let i = 0; i < SAMPLES && !compressible; i++) {
      const start = Math.floor((i * (block.byteLength - SAMPLE)) / (SAMPLES - 1));
      const sample = block.subarray(start, start + SAMPLE);
      let size = run("deflate1", () => zlib.createDeflateRaw({ level: 1 }), sample);
      if (size === -1) size = zlib.deflateRawSync(sample, { level: 1 }).byteLength;
      if (size === -2) size = SAMPLE;
      compressible = size < SAMPLE * 0.97;
    }
    if (!compressible) return storedBlocks(block);
  }
  const deflateOptions = { level, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const n = run(`deflate${level}`, () => zlib.createDeflateRaw({ level }), block);
  if (n >= 0) return n < block.byteLength ? scratch.subarray(0, n) : storedBlocks(block);
  if (n === -2) return storedBlocks(block);
  const deflated = zlib.deflateRawSync(block, deflateOptions);
  return deflated.byteLength < block.byteLength ? deflated : storedBlocks(block);

  /**
   * Compress `input` with a reused engine into `scratch`: the output size,
   * -1 when the handle is unavailable, -2 when the output would not fit
   * (larger than the block: deflate then stores the block anyway).
   */
  function run(key: string, create: () => unknown, input: Uint8Array): number {
    // deno-lint-ignore no-explicit-any
    let engine = state[key] as any;
    if (engine === undefined) {
      engine = create();
      const usable = typeof engine?._handle?.writeSync === "function" &&
        typeof engine._handle.reset === "function" && engine._writeState instanceof Uint32Array;
      if (!usable) {
        state[key] = null;
        return -1;
      }
      engine._handle.onerror = (message: string) => {
        engine.failure = message;
      };
      state[key] = engine;
    }
    if (engine === null) return -1;
    const handle = engine._handle;
    const written = engine._writeState as Uint32Array;
    const flush = key.startsWith("zstd") ? engine._finishFlushFlag : zlib.constants.Z_SYNC_FLUSH;
    handle.reset();
    let inOff = 0;
    let inLen = input.byteLength;
    let outOff = 0;
    for (;;) {
      if (outOff + WINDOW > scratch.byteLength) return -2;
      handle.writeSync(flush, input, inOff, inLen, scratch, outOff, WINDOW);
      if (engine.failure) {
        state[key] = undefined;
        throw new Error(`compression failed: ${engine.failure}`);
      }
      const availOut = written[0];
      const availIn = written[1];
      outOff += WINDOW - availOut;
      inOff += inLen - availIn;
      inLen = availIn;
      if (availOut !== 0) return outOff;
    }
  }

  /** Deflate "stored" (uncompressed) blocks, byte-aligned, not final. */
  function storedBlocks(data: Uint8Array): Uint8Array {
    const pieces = Math.max(1, Math.ceil(data.byteLength / 65535));
    const size = data.byteLength + pieces * 5;
    const target = out && out.byteLength >= size ? out.subarray(0, size) : new Uint8Array(size);
    let o = 0;
    for (let i = 0; i < pieces; i++) {
      const piece = data.subarray(i * 65535, Math.min(data.byteLength, (i + 1) * 65535));
      const len = piece.byteLength;
      target[o++] = 0x00;
      target[o++] = len & 0xff;
      target[o++] = len >>> 8;
      target[o++] = ~len & 0xff;
      target[o++] = (~len >>> 8) & 0xff;
      target.set(piece, o);
      o += len;
    }
    return target;
  }
}
