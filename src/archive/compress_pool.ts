/**
 * A pool of Deno Web Workers that compress blocks for {@link compressStream},
 * so gzip and zstd use every core. Blocks travel to the workers and back as
 * transferred ArrayBuffers (no copies); the caller keeps them in order and
 * bounds how many are in flight.
 *
 * The worker script is built from the source text of
 * {@link compressBlockWith} and loaded from a Blob URL, so there is no
 * separate file to find: it works the same from source, from the
 * `deno bundle` output and from a compiled binary. Workers start lazily
 * (a push of one block never starts any, its block is compressed on the
 * calling thread); later blocks queue until a worker has loaded, and if no
 * worker can start the pool compresses on the calling thread. Output is
 * identical either way.
 *
 * @module
 */

import zlib from "node:zlib";
import { ArtifactError } from "../errors.ts";
import {
  type BlockCompression,
  type CodecState,
  compressBlockWith,
  OUTPUT_SLACK,
} from "./block_codec.ts";
import { BufferPool } from "./buffer_pool.ts";
import type { BlockCompressor } from "./compress.ts";
import { COMPRESSION_BLOCK_SIZE } from "./compress.ts";

/** What the pool did, for diagnostics and tests. */
export interface PoolStats {
  /** Workers that loaded. */
  workersStarted: number;
  /** Workers that failed to load (their blocks ran on the calling thread). */
  workersFailed: number;
  /** Blocks compressed by workers. */
  blocksInWorkers: number;
  /** Blocks compressed on the calling thread. */
  blocksInline: number;
}

interface Job {
  block: Uint8Array<ArrayBuffer>;
  compression: BlockCompression;
  level: number;
  resolve: (out: Uint8Array) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  state: "starting" | "idle" | "busy" | "failed";
  job?: Job;
}

// The worker gets the block and a recycled output buffer, and sends both back:
// nothing is copied and nothing is allocated per block on either side.
const WORKER_SOURCE = `import zlib from "node:zlib";
const compressBlockWith = ${compressBlockWith.toString()};
const state = {};
self.onmessage = (event) => {
  const { block, out, compression, level } = event.data;
  let result;
  try {
    result = compressBlockWith(zlib, state, block, compression, level, out);
  } catch (error) {
    self.postMessage({ error: String(error && error.message || error) });
    return;
  }
  if (result.buffer === out.buffer) {
    self.postMessage({ block, out, length: result.byteLength }, [block.buffer, out.buffer]);
  } else {
    // Did not fit (or zlib allocated it): send an exact copy of its own.
    const own = new Uint8Array(result.byteLength);
    own.set(result);
    self.postMessage({ block, out, result: own }, [block.buffer, out.buffer, own.buffer]);
  }
};
self.postMessage({ ready: true });
`;

/**
 * Compression workers, usable as the compressor of {@link compressStream}.
 *
 * @example
 * ```ts
 * import { CompressorPool } from "./compress_pool.ts";
 * import { compressStream } from "./compress.ts";
 * using pool = new CompressorPool(2);
 * const chunks = [new Uint8Array(3 * 1024 * 1024)];
 * let size = 0;
 * for await (const c of compressStream(chunks, {
 *   compression: "gzip", compressor: pool, parallelism: pool.parallelism,
 * })) size += c.byteLength;
 * console.assert(size > 0);
 * ```
 */
export class CompressorPool implements BlockCompressor, Disposable {
  /** Number of workers the pool may start (0: compress on the calling thread). */
  readonly size: number;
  /** Recycled input blocks (fill them, hand them to `compress`). */
  readonly inputBuffers: BufferPool;
  readonly #outputBuffers: BufferPool;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #state: CodecState = {};
  #url: string | undefined;
  #submitted = 0;
  #closed = false;
  readonly #stats: PoolStats = {
    workersStarted: 0,
    workersFailed: 0,
    blocksInWorkers: 0,
    blocksInline: 0,
  };

  constructor(workers: number) {
    this.size = Math.max(0, Math.floor(workers));
    const keep = this.parallelism + 2;
    this.inputBuffers = new BufferPool(COMPRESSION_BLOCK_SIZE, keep);
    this.#outputBuffers = new BufferPool(COMPRESSION_BLOCK_SIZE + OUTPUT_SLACK, keep);
  }

  /**
   * Blocks to keep in flight: two per worker, so a worker never waits for the
   * calling thread to hand it the next block.
   */
  get parallelism(): number {
    return Math.max(1, 2 * this.size);
  }

  /** What the pool did so far. */
  get stats(): PoolStats {
    return { ...this.#stats };
  }

  /** Compress one block (handed over: it may be transferred and reused). */
  compress(block: Uint8Array, compression: BlockCompression, level: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new ArtifactError("compression pool is closed"));
    // The first block never starts workers (a small push needs none) and is
    // compressed here; later blocks wait for a worker to load, unless none can.
    if (++this.#submitted === 2) this.#start();
    if (this.#submitted === 1 || !this.#slots.some((s) => s.state !== "failed")) {
      try {
        return Promise.resolve(this.#inline(block, compression, level));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#queue.push({ block: ownedBlock(block), compression, level, resolve, reject });
      this.#dispatch();
    });
  }

  /** An output of {@link compress} is no longer used. */
  release(output: Uint8Array): void {
    this.#outputBuffers.give(output);
  }

  /** Terminate the workers; blocks not yet compressed are rejected. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.worker.terminate();
      slot.job?.reject(new ArtifactError("compression pool closed"));
    }
    for (const job of this.#queue.splice(0)) {
      job.reject(new ArtifactError("compression pool closed"));
    }
    if (this.#url) URL.revokeObjectURL(this.#url);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #inline(block: Uint8Array, compression: BlockCompression, level: number): Uint8Array {
    this.#stats.blocksInline++;
    const out = this.#outputBuffers.take();
    const result = compressBlockWith(zlib, this.#state, block, compression, level, out);
    this.inputBuffers.give(block);
    return result;
  }

  #start(): void {
    if (this.size === 0) return;
    try {
      this.#url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    } catch {
      return; // no Blob URLs here: keep compressing on this thread
    }
    for (let i = 0; i < this.size; i++) {
      let worker: Worker;
      try {
        worker = new Worker(this.#url, { type: "module", name: `artifact-cli-compress-${i}` });
      } catch {
        this.#stats.workersFailed++;
        continue;
      }
      const slot: Slot = { worker, state: "starting" };
      worker.onmessage = (event: MessageEvent) => this.#onMessage(slot, event.data);
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        this.#onFailure(slot, event.message);
      };
      worker.onmessageerror = () => this.#onFailure(slot, "unreadable message from worker");
      this.#slots.push(slot);
    }
  }

  #onMessage(slot: Slot, data: WorkerReply): void {
    if (data.ready) {
      this.#stats.workersStarted++;
      slot.state = "idle";
    } else {
      const job = slot.job!;
      slot.job = undefined;
      slot.state = "idle";
      if (data.error !== undefined) {
        job.reject(new ArtifactError(`compression failed: ${data.error}`));
      } else {
        this.#stats.blocksInWorkers++;
        this.inputBuffers.give(data.block!);
        if (data.result) {
          this.#outputBuffers.give(data.out!);
          job.resolve(data.result);
        } else {
          job.resolve(data.out!.subarray(0, data.length));
        }
      }
    }
    this.#dispatch();
  }

  #onFailure(slot: Slot, message: string): void {
    const wasStarting = slot.state === "starting";
    slot.state = "failed";
    slot.worker.terminate();
    if (wasStarting) this.#stats.workersFailed++;
    // A block already handed over is gone (transferred): fail rather than guess.
    slot.job?.reject(new ArtifactError(`compression worker failed: ${message}`));
    slot.job = undefined;
    this.#dispatch();
  }

  #dispatch(): void {
    if (this.#closed) return;
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.state !== "idle") continue;
      const job = this.#queue.shift()!;
      slot.state = "busy";
      slot.job = job;
      const out = this.#outputBuffers.take();
      slot.worker.postMessage(
        { block: job.block, out, compression: job.compression, level: job.level },
        [job.block.buffer, out.buffer],
      );
    }
    // Every worker failed to start: finish queued blocks here.
    if (!this.#slots.some((s) => s.state !== "failed")) {
      for (const job of this.#queue.splice(0)) {
        try {
          job.resolve(this.#inline(job.block, job.compression, job.level));
        } catch (e) {
          job.reject(e);
        }
      }
    }
  }
}

interface WorkerReply {
  ready?: boolean;
  error?: string;
  block?: Uint8Array;
  out?: Uint8Array;
  length?: number;
  result?: Uint8Array;
}

/** The block itself when it spans a whole ArrayBuffer (transferable), else a copy. */
function ownedBlock(block: Uint8Array): Uint8Array<ArrayBuffer> {
  if (
    block.buffer instanceof ArrayBuffer && block.byteOffset === 0 &&
    block.byteLength === block.buffer.byteLength
  ) {
    return block as Uint8Array<ArrayBuffer>;
  }
  const copy = new Uint8Array(block.byteLength);
  copy.set(block);
  return copy;
}

/** Default number of compression workers: one per core. */
export function defaultCompressionWorkers(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** Content bytes one compression worker is worth starting for. */
export const BYTES_PER_WORKER = 64 * 1024 * 1024;

/**
 * Workers for a layer of `bytes` content, at most `max`: each Web Worker
 * is an isolate costing about 20 MiB of RSS, and a small tree (or many small
 * files, where walking and tar headers on the calling thread are the limit)
 * gains nothing from more than one. The output does not depend on the count.
 */
export function workersForBytes(bytes: number, max: number): number {
  if (max <= 0) return 0;
  return Math.min(max, Math.max(1, Math.ceil(bytes / BYTES_PER_WORKER)));
}
