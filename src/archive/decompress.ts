/**
 * Streaming decompression with node:zlib, which (unlike the web
 * DecompressionStream) reads multi-member gzip. zstd streams are split into
 * frames first, because Deno's zstd decoder stops after the first frame.
 *
 * @module
 */

import { once } from "node:events";
import zlib from "node:zlib";
import { IntegrityError } from "../errors.ts";
import type { LayerCompression } from "../oci/media_types.ts";
import { ZstdFrameSplitter } from "./zstd_frames.ts";

type Source = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

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
  const pump = (async () => {
    try {
      for await (const chunk of source) {
        if (inflater.destroyed) break;
        if (!inflater.write(chunk)) {
          await Promise.race([once(inflater, "drain"), once(inflater, "close")]);
        }
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
