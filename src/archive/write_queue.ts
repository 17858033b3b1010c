/**
 * Writes the content of large files asynchronously (Deno runs async file
 * writes on its I/O thread pool), so that the main thread keeps inflating
 * and parsing while the kernel copies the bytes of the previous chunks.
 *
 * Files are still created synchronously by the extractor (O_EXCL, checked
 * path); only `write` and `close` on the descriptor are deferred. The
 * decoder reuses its output buffer, so content is copied into pooled blocks.
 * Bytes in flight are bounded: callers await {@link WriteQueue.ready} at an
 * await point (between input chunks) and {@link WriteQueue.flush} before
 * anything else may rely on the files (end of layer, rename of the output).
 *
 * @module
 */

/** Size of one pooled block: one async write each. */
const BLOCK = 4 * 1024 * 1024;

/** A file whose writes go through a {@link WriteQueue}. */
export interface QueuedFile {
  /** Queue a copy of `chunk` (valid only during the call) at the end of the file. */
  write(chunk: Uint8Array): void;
  /** Queue the close of the descriptor after the last write. */
  end(): void;
}

/** Bounded queue of asynchronous file writes. */
export class WriteQueue {
  readonly #limit: number;
  #queued = 0;
  #error: unknown;
  #failed = false;
  readonly #pool: Uint8Array[] = [];
  readonly #open = new Set<Promise<void>>();
  #waiter: { bytes: number; resolve: () => void } | undefined;

  /** `limit`: most bytes copied but not yet written before {@link ready} waits. */
  constructor(limit: number = 2 * BLOCK) {
    this.#limit = limit;
  }

  /** Bytes copied and not yet written. */
  get queued(): number {
    return this.#queued;
  }

  /** Take over writing to `file` (already created; its position at 0). */
  file(file: Deno.FsFile): QueuedFile {
    let chain: Promise<void> = Promise.resolve();
    let block: Uint8Array | undefined;
    let filled = 0;
    const submit = () => {
      if (!block) return;
      const full = block;
      const bytes = filled;
      block = undefined;
      filled = 0;
      chain = chain.then(async () => {
        try {
          if (!this.#failed) await writeAll(file, full.subarray(0, bytes));
        } catch (e) {
          this.#fail(e);
        } finally {
          this.#release(full, bytes);
        }
      });
    };
    return {
      write: (chunk) => {
        this.throwIfFailed();
        let offset = 0;
        while (offset < chunk.byteLength) {
          block ??= this.#pool.pop() ?? new Uint8Array(BLOCK);
          const n = Math.min(BLOCK - filled, chunk.byteLength - offset);
          block.set(chunk.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
          this.#queued += n;
          if (filled === BLOCK) submit();
        }
      },
      end: () => {
        submit();
        const done = chain.then(() => {
          try {
            file.close();
          } catch (e) {
            this.#fail(e);
          }
        });
        this.#open.add(done);
        void done.then(() => this.#open.delete(done));
      },
    };
  }

  /** Resolves once at most the limit is in flight; rejects after a failed write. */
  async ready(): Promise<void> {
    if (this.#queued > this.#limit) {
      await new Promise<void>((resolve) => this.#waiter = { bytes: this.#limit, resolve });
    }
    this.throwIfFailed();
  }

  /** Resolves when every queued write and close is done; rejects after a failed one. */
  async flush(): Promise<void> {
    while (this.#open.size) await Promise.all(this.#open);
    this.throwIfFailed();
  }

  /** Throw the first write error, if any. */
  throwIfFailed(): void {
    if (this.#failed) throw this.#error;
  }

  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = e;
  }

  #release(block: Uint8Array, bytes: number): void {
    this.#queued -= bytes;
    if (this.#pool.length * BLOCK < this.#limit) this.#pool.push(block);
    const waiter = this.#waiter;
    if (waiter && (this.#queued <= waiter.bytes || this.#failed)) {
      this.#waiter = undefined;
      waiter.resolve();
    }
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}
