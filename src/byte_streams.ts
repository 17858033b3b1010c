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

/** What {@link observeBytes} reports. */
export interface ByteObserver {
  /** A piece passed through (a view, valid during the call). May throw to fail the stream. */
  chunk?(view: Uint8Array): void;
  /** The source ended. May throw to fail the stream instead of ending it. */
  end?(): void;
  /** The stream failed (the source, or `chunk`/`end` threw) or the consumer cancelled it. */
  stopped?(reason: unknown): void;
}

/**
 * The same bytes as `source`, reported to `observer` on the way (for digest
 * checks, progress). A byte stream stays a byte stream: BYOB reads go
 * straight through into the consumer's buffer, so observing costs no copy
 * and no allocation; chunks of other streams are copied, because enqueuing
 * into a byte stream takes over (detaches) the chunk's buffer.
 *
 * @example
 * ```ts
 * import { observeBytes } from "./byte_streams.ts";
 * let seen = 0;
 * const out = observeBytes(ReadableStream.from([new Uint8Array(4)]), {
 *   chunk: (v) => void (seen += v.byteLength),
 * });
 * await Array.fromAsync(out);
 * console.assert(seen === 4);
 * ```
 */
export function observeBytes(
  source: ReadableStream<Uint8Array>,
  observer: ByteObserver,
): ReadableStream<Uint8Array> {
  const byob = byobReader(source);
  const reader = byob ?? source.getReader();
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: READ_CHUNK,
    async pull(controller) {
      const request = controller.byobRequest!;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        if (byob) {
          const view = request.view!;
          result = await byob.read(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
        } else {
          result = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        }
        if (result.done) observer.end?.();
        else observer.chunk?.(result.value);
      } catch (e) {
        observer.stopped?.(e);
        reader.cancel(e).catch(() => {});
        throw e;
      }
      if (result.done) {
        controller.close();
        // The pending read must still be answered, with the buffer it handed down.
        if (byob && result.value) request.respondWithNewView(result.value);
        else request.respond(0);
      } else if (byob) {
        request.respondWithNewView(result.value);
      } else {
        controller.enqueue(result.value.slice());
      }
    },
    cancel: (reason) => {
      observer.stopped?.(reason);
      return reader.cancel(reason);
    },
  });
}
