/**
 * Synchronous streaming decompression into one reused buffer, driving
 * node:zlib's engine handle directly (`_handle.writeSync`, the call
 * node:zlib's own stream and sync functions are built on).
 *
 * Why not the node:zlib streams: each output chunk is a fresh buffer, every
 * chunk costs several promises and events, and V8 lets ~64 MiB of such dead
 * buffers pile up before collecting them. Driving the handle synchronously
 * into one buffer that the tar parser consumes on the spot makes pulls about
 * twice as fast at a third of the memory. The handle is an internal API, so
 * {@link SyncDecompressor.create} returns undefined when it is missing or
 * looks different, and callers fall back to the streams (tested: the fast
 * path is active on the Deno version this project pins).
 *
 * @module
 */

import zlib from "node:zlib";
import { IntegrityError } from "../errors.ts";

/** Output buffer size: large enough that the engine is called rarely. */
const OUTPUT_BYTES = 1024 * 1024;

/** Receives decoded bytes; returning false stops decoding. */
export type OutputSink = (chunk: Uint8Array) => boolean | void;

interface EngineHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  close(): void;
  onerror?: (message: string, errno: number) => void;
}

/**
 * A gzip or zstd decoder fed synchronously.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { SyncDecompressor } from "./zlib_sync.ts";
 * const gunzip = SyncDecompressor.create("gzip")!;
 * let text = "";
 * const onOutput = (c: Uint8Array) => {
 *   text += new TextDecoder().decode(c);
 * };
 * gunzip.write(zlib.gzipSync(new TextEncoder().encode("hi")), onOutput);
 * gunzip.finish(onOutput);
 * console.assert(text === "hi");
 * ```
 */
export class SyncDecompressor {
  readonly #handle: EngineHandle;
  readonly #state: Uint32Array;
  readonly #engine: { close(): void };
  readonly #out = new Uint8Array(OUTPUT_BYTES);
  readonly #name: string;
  #failure: string | undefined;

  private constructor(
    engine: { close(): void },
    handle: EngineHandle,
    state: Uint32Array,
    name: string,
  ) {
    this.#engine = engine;
    this.#handle = handle;
    this.#state = state;
    this.#name = name;
    handle.onerror = (message) => {
      this.#failure = message;
    };
  }

  /** A decoder, or undefined when node:zlib's handle is not usable here. */
  static create(kind: "gzip" | "zstd"): SyncDecompressor | undefined {
    const engine = kind === "gzip" ? zlib.createGunzip() : zlib.createZstdDecompress();
    // deno-lint-ignore no-explicit-any
    const internals = engine as any;
    const handle = internals._handle as EngineHandle | undefined;
    const state = internals._writeState;
    if (
      typeof handle?.writeSync !== "function" || typeof handle.reset !== "function" ||
      !(state instanceof Uint32Array) || state.length < 2
    ) {
      engine.close();
      return undefined;
    }
    return new SyncDecompressor(engine, handle, state, kind);
  }

  /**
   * Decode `input`. `onOutput` receives views of one reused buffer, valid
   * only during the call; when it returns false, decoding stops at once.
   * Returns false if it was stopped.
   */
  write(input: Uint8Array, onOutput: OutputSink): boolean {
    return this.#run(zlib.constants.Z_NO_FLUSH, input, onOutput);
  }

  /** The input ended: flush, and fail if the stream was cut short. */
  finish(onOutput: OutputSink): void {
    this.#run(zlib.constants.Z_FINISH, new Uint8Array(0), onOutput);
  }

  /** Start over for a new independent stream (e.g. the next zstd frame). */
  reset(): void {
    this.#failure = undefined;
    this.#handle.reset();
  }

  /** Release the engine. */
  close(): void {
    try {
      this.#engine.close();
    } catch { /* already closed */ }
  }

  #run(flush: number, input: Uint8Array, onOutput: OutputSink): boolean {
    const out = this.#out;
    let inOff = 0;
    let inLen = input.byteLength;
    for (;;) {
      try {
        this.#handle.writeSync(flush, input, inOff, inLen, out, 0, out.byteLength);
      } catch (e) {
        this.#failure = (e as Error).message;
      }
      if (this.#failure !== undefined) {
        throw new IntegrityError(`corrupt ${this.#name} data: ${this.#failure}`);
      }
      const availOut = this.#state[0];
      const availIn = this.#state[1];
      const produced = out.byteLength - availOut;
      if (produced > 0 && onOutput(out.subarray(0, produced)) === false) return false;
      inOff += inLen - availIn;
      inLen = availIn;
      // Not limited by output space: all input taken, or the stream ended
      // (bytes after the end, like zero padding, are ignored as node:zlib does).
      if (availOut !== 0) return true;
    }
  }
}
