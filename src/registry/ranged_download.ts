/**
 * Large blobs over several connections: registries and CDNs cap throughput
 * per connection, and a Garden Linux disk image or a dataset is one blob of
 * gigabytes. A blob of at least {@link RANGED_DOWNLOAD}.minBytes is fetched
 * as consecutive `Range` parts, a few at once, and handed on in order, so
 * memory stays at (connections + 1) × partBytes and the caller still verifies
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

  const fetchPart = async (i: number, answer?: Response): Promise<Uint8Array<ArrayBuffer>> => {
    const [start, end] = bounds(i);
    let lastError: unknown;
    for (let attempt = 0; attempt < RANGED_DOWNLOAD.attempts; attempt++) {
      const response = attempt === 0 && answer ? answer : await request(start, end);
      try {
        return await readPart(response, start, end, size, what);
      } catch (e) {
        if (e instanceof IntegrityError) throw e; // the registry answered, wrongly
        lastError = e; // a dropped connection: ask for the part again
      }
    }
    throw lastError;
  };

  const pending = new Map<number, Promise<Uint8Array<ArrayBuffer>>>();
  let next = 0; // the next part to hand on
  let started = 0; // parts requested so far
  const fill = () => {
    while (started < parts && started < next + connections) {
      const part = fetchPart(started, started === 0 ? first : undefined);
      part.catch(() => {}); // surfaced when its turn comes
      pending.set(started, part);
      started++;
    }
  };
  fill();
  return {
    stream: new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (next >= parts) return controller.close();
        const bytes = await pending.get(next)!;
        pending.delete(next);
        next++;
        fill();
        controller.enqueue(bytes);
        if (next >= parts) controller.close();
      },
      cancel() {
        next = started = parts; // nothing more is requested
        pending.clear();
      },
    }),
  };
}

/** The body of a 206 answer for `start-end`, exactly that many bytes. */
async function readPart(
  response: Response,
  start: number,
  end: number,
  size: number,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
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
  const out = new Uint8Array(length);
  let fill = 0;
  const reader = response.body!.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (fill + value.byteLength > length) {
        throw new IntegrityError(`${what}: part ${start}-${end} is longer than asked for`);
      }
      out.set(value, fill);
      fill += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  if (fill !== length) {
    throw new Error(`part ${start}-${end} ended after ${fill} of ${length} bytes`);
  }
  return out;
}
