/**
 * Reading byte streams without an allocation per chunk. Files and fetch
 * bodies are byte streams in Deno: read with a BYOB reader, every chunk
 * lands in the same recycled buffer. V8 lets ~64 MiB of dead chunk buffers
 * pile up before collecting them, so this is what keeps a multi-GiB pull at
 * a small, steady footprint (and it is faster).
 *
 * @module
 */

/** Default size of the reused buffer. */
export const READ_CHUNK = 1024 * 1024;

/**
 * Call `onChunk` for each piece of `source`. With a byte stream the pieces
 * are views of one reused buffer, valid only until `onChunk` returns (or its
 * promise settles); other streams and iterables pass their chunks as they are.
 *
 * @example
 * ```ts
 * import { eachChunk } from "./byte_streams.ts";
 * let size = 0;
 * await eachChunk(ReadableStream.from([new Uint8Array(3)]), (c) => void (size += c.byteLength));
 * console.assert(size === 3);
 * ```
 */
export async function eachChunk(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void | Promise<void>,
  chunkSize: number = READ_CHUNK,
): Promise<void> {
  const reader = source instanceof ReadableStream ? byobReader(source) : undefined;
  if (!reader) {
    for await (const chunk of source as AsyncIterable<Uint8Array>) await onChunk(chunk);
    return;
  }
  let buffer = new Uint8Array(chunkSize);
  try {
    for (;;) {
      const { done, value } = await reader.read(buffer);
      if (done) break;
      await onChunk(value);
      // The read transferred the buffer: continue with its new owner.
      buffer = new Uint8Array(value.buffer);
    }
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}

/** A BYOB reader when `stream` is a byte stream, else undefined (nothing locked). */
export function byobReader(
  stream: ReadableStream<Uint8Array>,
): ReadableStreamBYOBReader | undefined {
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    return undefined;
  }
}
