/**
 * gzip decoding on a Web Worker, so that a pull uses two cores: the worker
 * inflates while the calling thread reads the blob, computes its digest,
 * parses the tar stream and writes files. On the calling thread alone those
 * steps run one after another and inflate is about half of the time.
 *
 * The worker drives the same node:zlib engine handle as zlib_sync.ts (same
 * engine, same handling of multi-member gzip and of bytes after the end), so
 * the output is the same bytes in the same pieces whether or not a worker
 * runs. Memory stays bounded both ways: at most {@link INPUT_IN_FLIGHT}
 * compressed pieces are queued at the worker, and it sends at most
 * {@link OUTPUT_IN_FLIGHT} decoded pieces before it waits for the caller to
 * hand buffers back, so a gzip bomb cannot fill memory ahead of the tar
 * parser's limits. Buffers travel as transferred ArrayBuffers and are reused.
 *
 * The worker script is built from a string and loaded from a Blob URL (as
 * the compression pool does), so it works from source, from the `deno
 * bundle` output and from a compiled binary. When no worker can start, or
 * the engine handle is missing inside it, {@link inflateInWorker} returns
 * false before reading anything and the caller decodes on its own thread.
 *
 * @module
 */

import { eachChunk } from "../byte_streams.ts";
import { IntegrityError } from "../errors.ts";
import type { OutputSink } from "./zlib_sync.ts";

/** Compressed pieces queued at the worker at most. */
export const INPUT_IN_FLIGHT = 2;
/** Decoded pieces (of 4 MiB) the worker sends before it waits for buffers back. */
export const OUTPUT_IN_FLIGHT = 4;
const OUTPUT_BYTES = 1024 * 1024;
const INPUT_BYTES = 2 * 1024 * 1024;

// Messages: to the worker {input, id} | {finish} | {recycle}; from it
// {ready} | {unusable} | {data, length} | {consumed: input} | {done} | {error}.
const WORKER_SOURCE = `import zlib from "node:zlib";
const engine = zlib.createGunzip();
const handle = engine._handle;
const state = engine._writeState;
if (typeof handle?.writeSync !== "function" || !(state instanceof Uint32Array)) {
  self.postMessage({ unusable: true });
} else {
  let failure;
  handle.onerror = (message) => { failure = message; };
  const free = [];
  let credits = ${OUTPUT_IN_FLIGHT};
  const queue = [];
  const pump = () => {
    while (queue.length > 0 && credits > 0 && failure === undefined) {
      const job = queue[0];
      const out = free.pop() ?? new Uint8Array(${OUTPUT_BYTES});
      try {
        handle.writeSync(job.flush, job.input, job.offset, job.length, out, 0, out.byteLength);
      } catch (error) {
        failure = String(error && error.message || error);
      }
      if (failure !== undefined) {
        self.postMessage({ error: failure });
        return;
      }
      const availOut = state[0];
      const availIn = state[1];
      const produced = out.byteLength - availOut;
      job.offset += job.length - availIn;
      job.length = availIn;
      if (produced > 0) {
        credits--;
        self.postMessage({ data: out, length: produced }, [out.buffer]);
      } else {
        free.push(out);
      }
      if (availOut !== 0) {
        queue.shift();
        if (job.finish) self.postMessage({ done: true });
        else self.postMessage({ consumed: job.input }, [job.input.buffer]);
      }
    }
  };
  self.onmessage = (event) => {
    const message = event.data;
    if (message.input) {
      queue.push({ input: message.input, offset: 0, length: message.input.byteLength, flush: zlib.constants.Z_NO_FLUSH });
    } else if (message.finish) {
      queue.push({ input: new Uint8Array(0), offset: 0, length: 0, flush: zlib.constants.Z_FINISH, finish: true });
    } else if (message.recycle) {
      free.push(message.recycle);
      credits++;
    }
    pump();
  };
  self.postMessage({ ready: true });
}
`;

let workerUrl: string | undefined;

/** Options for {@link inflateInWorker}. */
export interface InflateInWorkerOptions {
  /** Called after each piece of input has been handed to the worker; awaited. */
  onInput?: (bytes: number) => void | Promise<void>;
}

/**
 * Decode a gzip stream on a worker, handing the output to `onData` as views
 * valid only during the call. Same contract as `decompressTo`: when `onData`
 * returns false decoding stops but the source is still read to its end (a
 * verifying source checks its digest); corrupt data fails with an
 * IntegrityError after the source was read to its end; errors of the source
 * and of `onData` pass through. Returns false, having read nothing, when no
 * worker could be used.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { inflateInWorker } from "./inflate_worker.ts";
 * const gz = zlib.gzipSync(new TextEncoder().encode("hello"));
 * let size = 0;
 * await inflateInWorker([gz], (chunk) => void (size += chunk.byteLength));
 * console.assert(size === 5);
 * ```
 */
export async function inflateInWorker(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onData: OutputSink,
  options: InflateInWorkerOptions = {},
): Promise<boolean> {
  const worker = await startWorker();
  if (!worker) return false;
  const inputs: Uint8Array<ArrayBuffer>[] = [];
  let inFlight = 0;
  let stopped = false;
  let finished = false;
  // In an object: TypeScript does not see the handlers' assignments.
  const outcome: { corrupt?: IntegrityError; failure?: { error: unknown } } = {};
  let wake: (() => void) | undefined;
  const progress = () => new Promise<void>((resolve) => (wake = resolve));

  worker.onmessage = (event) => {
    const message = event.data;
    if (message.data) {
      const view = (message.data as Uint8Array<ArrayBuffer>).subarray(0, message.length);
      if (!stopped && !outcome.failure) {
        try {
          if (onData(view) === false) stopped = true;
        } catch (error) {
          outcome.failure = { error };
        }
      }
      worker.postMessage({ recycle: message.data }, [message.data.buffer]);
    } else if (message.consumed) {
      inFlight--;
      inputs.push(new Uint8Array(message.consumed.buffer));
    } else if (message.done) {
      finished = true;
    } else if (message.error) {
      outcome.corrupt = new IntegrityError(`corrupt gzip data: ${message.error}`);
    }
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    outcome.failure ??= { error: new Error(`the decompression worker failed: ${event.message}`) };
    wake?.();
  };
  const idle = () => stopped || outcome.corrupt !== undefined || outcome.failure !== undefined;

  try {
    // Input is gathered into pieces of INPUT_BYTES: fewer, larger messages.
    let input: Uint8Array<ArrayBuffer> | undefined;
    let filled = 0;
    const send = async () => {
      worker.postMessage({ input: input!.subarray(0, filled) }, [input!.buffer]);
      input = undefined;
      filled = 0;
      inFlight++;
      while (inFlight >= INPUT_IN_FLIGHT && !idle()) await progress();
      rethrow(outcome.failure);
    };
    await eachChunk(source, async (chunk) => {
      rethrow(outcome.failure);
      if (idle()) return; // read on to the end: the source verifies its digest
      let offset = 0;
      while (offset < chunk.byteLength && !idle()) {
        input ??= inputs.pop() ?? new Uint8Array(INPUT_BYTES);
        const take = Math.min(chunk.byteLength - offset, input.byteLength - filled);
        input.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === input.byteLength) await send();
      }
      await options.onInput?.(chunk.byteLength);
    });
    if (filled > 0 && !idle()) await send();
    if (!idle()) {
      worker.postMessage({ finish: true });
      while (!finished && !idle()) await progress();
    }
    rethrow(outcome.failure);
    if (outcome.corrupt) throw outcome.corrupt;
    return true;
  } finally {
    worker.terminate();
  }
}

function rethrow(failure: { error: unknown } | undefined): void {
  if (failure) throw failure.error;
}

/** A worker that has loaded and found the engine handle, or undefined. */
async function startWorker(): Promise<Worker | undefined> {
  let worker: Worker;
  try {
    workerUrl ??= URL.createObjectURL(
      new Blob([WORKER_SOURCE], { type: "application/javascript" }),
    );
    worker = new Worker(workerUrl, { type: "module" });
  } catch {
    return undefined;
  }
  const usable = await new Promise<boolean>((resolve) => {
    worker.onmessage = (event) => resolve(event.data?.ready === true);
    worker.onerror = (event) => {
      event.preventDefault();
      resolve(false);
    };
  });
  if (!usable) {
    worker.terminate();
    return undefined;
  }
  return worker;
}
