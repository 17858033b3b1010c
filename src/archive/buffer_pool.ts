/**
 * Recycled fixed-size buffers. Streaming gigabytes through fresh 1 MiB
 * buffers keeps peak memory high for no reason: V8 lets about 64 MiB of
 * dead ArrayBuffers pile up per thread before it collects them. Reusing a
 * few buffers keeps a push or pull at a steady, small footprint.
 *
 * @module
 */

/**
 * A free list of buffers of one size.
 *
 * @example
 * ```ts
 * import { BufferPool } from "./buffer_pool.ts";
 * const pool = new BufferPool(1024, 4);
 * const a = pool.take();
 * pool.give(a);
 * console.assert(pool.take() === a);
 * ```
 */
export class BufferPool {
  readonly #free: Uint8Array<ArrayBuffer>[] = [];

  /** Buffers of `size` bytes; at most `keep` are held while unused. */
  constructor(readonly size: number, readonly keep: number) {}

  /** A buffer of `size` bytes, zero-filled. */
  take(): Uint8Array<ArrayBuffer> {
    const buffer = this.#free.pop();
    if (!buffer) return new Uint8Array(this.size);
    buffer.fill(0);
    return buffer;
  }

  /**
   * Return a buffer for reuse. Views that do not span a whole buffer of the
   * pool's size are ignored, so anything may be given back safely; the giver
   * must not touch it afterwards.
   */
  give(view: Uint8Array): void {
    const buffer = view.buffer;
    if (
      !(buffer instanceof ArrayBuffer) || buffer.byteLength !== this.size ||
      buffer.detached || this.#free.length >= this.keep ||
      this.#free.some((free) => free.buffer === buffer)
    ) {
      return;
    }
    this.#free.push(new Uint8Array(buffer));
  }
}
