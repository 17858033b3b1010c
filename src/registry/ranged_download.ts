/**
 * Large blobs over several connections: registries and CDNs cap throughput
 * per connection, and a Garden Linux disk image or a dataset is one blob of
 * gigabytes. A blob of at least {@link RANGED_DOWNLOAD}.minBytes is fetched
 * as consecutive `Range` parts, a few at once, and handed on in order, so
 * memory stays under connections × partBytes and the caller still verifies
 * the whole digest. A registry that ignores `Range` (200 to the first part)
 * is read as one stream, as before.
 *
 * @module
 */

import { IntegrityError } from "../errors.ts";

/** When and how a blob is downloaded in parts. */
export const RANGED_DOWNLOAD = {
  /** Blobs from this size on are fetched in parts (`ARTIFACT_CLI_RANGED_MIN_BYTES`). */
  minBytes: 64 * 1024 * 1024,
  /** Bytes per part (`ARTIFACT_CLI_RANGED_PART_BYTES`). */
  partBytes: 8 * 1024 * 1024,
  /** Parts in flight at once (`ARTIFACT_CLI_RANGED_CONNECTIONS`; 1 turns parts off). */
  connections: 4,
  /** Attempts per part before the download fails. */
  attempts: 3,
} as const;

/** The effective settings, with the environment's overrides. */
export function rangedSettings(): { minBytes: number; partBytes: number; connections: number } {
  const number = (name: string, fallback: number, min: number) => {
    let text: string | undefined;
    try {
      text = Deno.env.get(name);
    } catch { /* no --allow-env: a library user */ }
    const value = text === undefined ? NaN : Number(text);
    return Number.isInteger(value) && value >= min ? value : fallback;
  };
  return {
    minBytes: number("ARTIFACT_CLI_RANGED_MIN_BYTES", RANGED_DOWNLOAD.minBytes, 1),
    partBytes: number("ARTIFACT_CLI_RANGED_PART_BYTES", RANGED_DOWNLOAD.partBytes, 4096),
    connections: number("ARTIFACT_CLI_RANGED_CONNECTIONS", RANGED_DOWNLOAD.connections, 1),
  };
}

/** Sends `GET` with `Range: bytes=start-end` (inclusive) and returns the answer. */
export type RangeRequest = (start: number, end: number) => Promise<Response>;

/**
 * Start a download of `size` bytes in parts. Resolves to the ordered stream,
 * or to `{ whole }` when the first answer is a plain 200 (Range ignored): the
 * caller then reads that response as one stream.
 *
 * The part being handed on is streamed as its chunks arrive; only the parts
 * after it are held, as the chunks fetch gave (no part-sized copy: a fresh
 * 8 MiB buffer per part made a 512 MiB pull peak at ~200 MiB). A part whose
 * connection drops is asked again from the byte it had reached.
 */
export async function rangedDownload(
  size: number,
  request: RangeRequest,
  what: string,
  settings = rangedSettings(),
): Promise<{ stream: ReadableStream<Uint8Array> } | { whole: Response }> {
  const { partBytes, connections } = settings;
  const parts = Math.ceil(size / partBytes);
  const bounds = (i: number) => [i * partBytes, Math.min(size, (i + 1) * partBytes) - 1] as const;
  const first = await request(...bounds(0));
  if (first.status !== 206) return { whole: first };

  let cancelled = false;
  const fetchPart = async (i: number, part: PartChunks, answer?: Response) => {
    const [start, end] = bounds(i);
    let lastError: unknown;
    try {
      for (let attempt = 0; attempt < RANGED_DOWNLOAD.attempts; attempt++) {
        const response = attempt === 0 && answer
          ? answer
          : await request(start + part.received, end);
        try {
          await readPart(response, start + part.received, end, size, what, part, () => cancelled);
          return part.finish(end - start + 1);
        } catch (e) {
          if (e instanceof IntegrityError) throw e; // the registry answered, wrongly
          lastError = e; // a dropped connection: ask for the rest of the part again
        }
      }
      throw lastError;
    } catch (e) {
      part.fail(e);
    }
  };

  const pending = new Map<number, PartChunks>();
  let next = 0; // the part being handed on
  let started = 0; // parts requested so far
  const fill = () => {
    while (!cancelled && started < parts && started < next + connections) {
      const part = new PartChunks();
      void fetchPart(started, part, started === 0 ? first : undefined);
      pending.set(started, part);
      started++;
    }
  };
  fill();
  return {
    stream: new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (next < parts) {
          const chunk = await pending.get(next)!.take();
          if (chunk) return controller.enqueue(chunk);
          pending.delete(next);
          next++;
          fill();
        }
        controller.close();
      },
      cancel() {
        cancelled = true; // nothing more is requested; readers stop at their next chunk
        pending.clear();
      },
    }),
  };
}

/** The chunks of one part received so far, taken in order by the stream. */
class PartChunks {
  received = 0;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #done = false;
  #error: unknown = undefined;
  #failed = false;
  #wake: (() => void) | undefined;

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.received += chunk.byteLength;
    this.#notify();
  }

  finish(length: number): void {
    if (this.received !== length) {
      return this.fail(new Error(`part ended after ${this.received} of ${length} bytes`));
    }
    this.#done = true;
    this.#notify();
  }

  fail(error: unknown): void {
    this.#failed = true;
    this.#error = error;
    this.#notify();
  }

  /** The next chunk, or null when the part is complete; throws its error. */
  async take(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#head < this.#chunks.length) {
        const chunk = this.#chunks[this.#head];
        this.#chunks[this.#head++] = EMPTY; // let it go once handed on
        return chunk;
      }
      if (this.#failed) throw this.#error;
      if (this.#done) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

const EMPTY = new Uint8Array(0);

/** Reads the body of a 206 answer for `start-end` into `part`, never more than asked for. */
async function readPart(
  response: Response,
  start: number,
  end: number,
  size: number,
  what: string,
  part: PartChunks,
  cancelled: () => boolean,
): Promise<void> {
  if (response.status !== 206) {
    await response.body?.cancel();
    throw new IntegrityError(`${what}: part ${start}-${end} answered ${response.status}, not 206`);
  }
  const range = response.headers.get("content-range");
  const match = range && /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
  if (
    !match || Number(match[1]) !== start || Number(match[2]) !== end ||
    (match[3] !== "*" && Number(match[3]) !== size)
  ) {
    await response.body?.cancel();
    throw new IntegrityError(
      `${what}: asked for bytes ${start}-${end}/${size}, the registry sent ${
        range ?? "no Content-Range"
      }`,
    );
  }
  const length = end - start + 1;
  let fill = 0;
  const reader = response.body!.getReader();
  try {
    for (;;) {
      if (cancelled()) return void await reader.cancel();
      const { value, done } = await reader.read();
      if (done) break;
      if (fill + value.byteLength > length) {
        throw new IntegrityError(`${what}: part ${start}-${end} is longer than asked for`);
      }
      part.push(value);
      fill += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  if (fill !== length) {
    throw new Error(`part ${start}-${end} ended after ${fill} of ${length} bytes`);
  }
}
