/**
 * Streaming decompression with node:zlib, which (unlike the web
 * DecompressionStream) reads multi-member gzip. zstd streams are split into
 * frames first, because Deno's zstd decoder stops after the first frame.
 *
 * The fast path ({@link decompressTo}) decodes synchronously into one reused
 * buffer (zlib_sync.ts); node:zlib's streams remain as the fallback.
 *
 * @module
 */

import zlib from "node:zlib";
import { eachChunk } from "../byte_streams.ts";
import { IntegrityError } from "../errors.ts";
import type { LayerCompression } from "../oci/media_types.ts";
import { inflateInWorker } from "./inflate_worker.ts";
import { type OutputSink, SyncDecompressor } from "./zlib_sync.ts";
import { ZstdFrameSplitter } from "./zstd_frames.ts";

type Source = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const CHUNK = 256 * 1024;

/**
 * Decompress a stream. Corrupt input ends the iteration with an
 * IntegrityError; errors of the source itself pass through unchanged.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { decompress } from "./decompress.ts";
 * const gz = zlib.gzipSync(new TextEncoder().encode("hello"));
 * let text = "";
 * for await (const c of decompress([gz], "gzip")) text += new TextDecoder().decode(c);
 * console.assert(text === "hello");
 * ```
 */
export async function* decompress(
  source: Source,
  compression: LayerCompression,
): AsyncGenerator<Uint8Array> {
  if (compression === "none") {
    yield* source;
    return;
  }
  const engine = SyncDecompressor.create(compression);
  if (!engine) {
    yield* decompressWithStreams(source, compression);
    return;
  }
  try {
    const pending: Uint8Array[] = [];
    const keep = (chunk: Uint8Array) => void pending.push(chunk.slice());
    const feed = syncFeeder(engine, compression, keep);
    for await (const chunk of source) {
      feed.write(chunk);
      yield* pending.splice(0);
    }
    feed.finish();
    yield* pending.splice(0);
  } finally {
    engine.close();
  }
}

/** Options for {@link decompressTo}. */
export interface DecompressToOptions {
  /**
   * Called after each piece of input has been decoded and handed on (with
   * its size in bytes); awaited before the next piece is read.
   */
  onInput?: (bytes: number) => void | Promise<void>;
  /**
   * Decode gzip on a worker thread (see inflate_worker.ts), overlapping
   * inflate with whatever the caller does with the output. Worth it for
   * large layers only: a worker costs a few milliseconds to start. Falls
   * back to this thread when no worker can start. Only used when
   * `ARTIFACT_CLI_INFLATE_WORKER=1`: on two cores the worker was not
   * measurably faster and its isolate adds ~27 MiB to a pull's peak RSS
   * (docs/performance.md).
   */
  worker?: boolean;
}

/** Whether the environment asks for the inflate worker (`ARTIFACT_CLI_INFLATE_WORKER=1`; off by default). */
export function inflateWorkerAllowed(): boolean {
  try {
    return Deno.env.get("ARTIFACT_CLI_INFLATE_WORKER") === "1";
  } catch {
    return false; // no --allow-env: a library user gets the default
  }
}

/**
 * Decompress a stream, handing the output to `onData` as views of a reused
 * buffer (valid only during the call): no allocation per chunk. When
 * `onData` returns false, decoding stops but the source is still read to its
 * end (so that a verifying source checks its digest). Corrupt input fails
 * with an IntegrityError; errors of the source pass through.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { decompressTo } from "./decompress.ts";
 * const gz = zlib.gzipSync(new TextEncoder().encode("hello"));
 * let size = 0;
 * await decompressTo([gz], "gzip", (chunk) => void (size += chunk.byteLength));
 * console.assert(size === 5);
 * ```
 */
export async function decompressTo(
  source: Source,
  compression: LayerCompression,
  onData: OutputSink,
  options: DecompressToOptions = {},
): Promise<void> {
  let stopped = false;
  const sink: OutputSink = (chunk) => {
    if (onData(chunk) === false) stopped = true;
    return !stopped;
  };
  if (compression === "none") {
    await eachChunk(source, async (chunk) => {
      if (!stopped) sink(chunk);
      await options.onInput?.(chunk.byteLength);
    });
    return;
  }
  if (compression === "gzip" && options.worker && inflateWorkerAllowed()) {
    if (await inflateInWorker(source, sink, { onInput: options.onInput })) return;
  }
  const engine = SyncDecompressor.create(compression);
  if (!engine) {
    // Borrow the source without letting the decoder close it, so it can be drained.
    const iterator = sourceIterator(source);
    let previous: number | undefined;
    const borrowed = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          if (previous !== undefined) await options.onInput?.(previous);
          const next = await iterator.next();
          previous = next.done ? undefined : next.value.byteLength;
          return next;
        },
      }),
    };
    for await (const chunk of decompressWithStreams(borrowed, compression)) {
      if (!sink(chunk)) break;
    }
    while (!(await iterator.next()).done) { /* read to the end: the source verifies */ }
    return;
  }
  try {
    const feed = syncFeeder(engine, compression, sink);
    // Corrupt compressed data usually means bytes that do not match their
    // digest: read the source to its end first, so that a verifying source
    // reports the mismatch (the cause) rather than the decoder its symptom.
    let corrupt: IntegrityError | undefined;
    // Byte streams are read into one reused buffer (see byte_streams.ts).
    await eachChunk(source, async (chunk) => {
      if (stopped || corrupt) return;
      try {
        feed.write(chunk);
      } catch (e) {
        if (!(e instanceof IntegrityError)) throw e;
        corrupt = e;
        return;
      }
      await options.onInput?.(chunk.byteLength);
    });
    if (corrupt) throw corrupt;
    if (!stopped) feed.finish();
  } finally {
    engine.close();
  }
}

/** Feeds a sync engine: gzip as one (multi-member) stream, zstd frame by frame. */
function syncFeeder(
  engine: SyncDecompressor,
  compression: "gzip" | "zstd",
  onData: OutputSink,
): { write(chunk: Uint8Array): void; finish(): void } {
  if (compression === "gzip") {
    return {
      write: (chunk) => void engine.write(chunk, onData),
      finish: () => engine.finish(onData),
    };
  }
  const splitter = new ZstdFrameSplitter();
  return {
    write(chunk) {
      for (const segment of splitter.feed(chunk)) {
        if (!engine.write(segment.data, onData)) return;
        if (segment.frameEnd) engine.reset();
      }
    },
    finish: () => splitter.finish(),
  };
}

function sourceIterator(source: Source): AsyncIterator<Uint8Array> {
  if (source instanceof ReadableStream) return source.values({ preventCancel: true });
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const sync = (source as Iterable<Uint8Array>)[Symbol.iterator]();
  return { next: () => Promise.resolve(sync.next()) };
}

/** The node:zlib streams path, for runtimes without a usable engine handle. */
async function* decompressWithStreams(
  source: Source,
  compression: LayerCompression,
): AsyncGenerator<Uint8Array> {
  switch (compression) {
    case "none":
      yield* source;
      return;
    case "gzip":
      yield* inflate(zlib.createGunzip({ chunkSize: CHUNK }), source, "gzip");
      return;
    case "zstd":
      yield* decompressZstdFrames(source);
      return;
  }
}

async function* decompressZstdFrames(source: Source): AsyncGenerator<Uint8Array> {
  const splitter = new ZstdFrameSplitter();
  const segments = (async function* () {
    for await (const chunk of source) yield* splitter.feed(chunk);
    splitter.finish();
  })();
  let first = await segments.next();
  while (!first.done) {
    const head = first.value;
    let exhausted = false;
    // The pieces of one frame: the head segment, then until frameEnd.
    const frame = (async function* () {
      yield head.data;
      if (head.frameEnd) return;
      for (;;) {
        const next = await segments.next();
        if (next.done) {
          exhausted = true;
          return;
        }
        yield next.value.data;
        if (next.value.frameEnd) return;
      }
    })();
    yield* inflate(zlib.createZstdDecompress({ chunkSize: CHUNK }), frame, "zstd");
    if (exhausted) break;
    first = await segments.next();
  }
}

/** Run one zlib transform over a source, with backpressure both ways. */
async function* inflate(
  inflater: zlib.Gunzip | zlib.ZstdDecompress,
  source: Source,
  name: string,
): AsyncGenerator<Uint8Array> {
  let pumpError: unknown;
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        inflater.off("drain", done);
        inflater.off("close", done);
        resolve();
      };
      inflater.on("drain", done);
      inflater.on("close", done);
    });
  const pump = (async () => {
    try {
      for await (const chunk of source) {
        if (inflater.destroyed) break;
        if (!inflater.write(chunk)) await writable();
      }
      if (!inflater.destroyed) inflater.end();
    } catch (e) {
      pumpError = e;
      inflater.destroy(e as Error);
    }
  })();
  try {
    for await (const chunk of inflater) yield chunk as Uint8Array;
  } catch (e) {
    if (pumpError) throw pumpError;
    throw new IntegrityError(`corrupt ${name} data: ${(e as Error).message}`, { cause: e });
  } finally {
    inflater.destroy();
    await pump;
  }
  if (pumpError) throw pumpError;
}
