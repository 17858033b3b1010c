/**
 * Large blobs over several connections: registries and CDNs cap throughput
 * per connection, and a Garden Linux disk image or a dataset is one blob of
 * gigabytes. A blob of at least {@link RANGED_DOWNLOAD}.minBytes starts as
 * one `Range` request for the whole blob, read straight into the consumer's
 * buffer (as a plain download is). While it runs, the time the consumer
 * spends waiting for the network is measured; when, after the probe
 * ({@link RANGED_DOWNLOAD}.probeMs), the consumer waited more than half of
 * the time, one connection is what limits the download, and the rest of the
 * blob is fetched as consecutive parts, a few at once, handed on in order.
 * A fast connection (the consumer, decompressing and writing files, is the
 * limit) stays one stream: extra connections there only cost CPU and
 * memory (measured 1.27–1.44× slower on a loopback registry).
 *
 * Parts are received into a fixed pool of part buffers (at most
 * `connections`, reused; reads go through a small scratch buffer because a
 * BYOB read detaches the buffer it is given), so memory stays under
 * connections × partBytes and no garbage piles up per chunk. A registry
 * that ignores `Range` (200 to the first request) is read as one stream; a
 * part whose connection drops is asked again from the byte it had reached.
 * The caller verifies the whole digest.
 *
 * @module
 */

import { IntegrityError } from "../errors.ts";

/** When and how a blob is downloaded in parts. */
export const RANGED_DOWNLOAD = {
  /** Blobs from this size on may be fetched in parts (`ARTIFACT_CLI_RANGED_MIN_BYTES`). */
  minBytes: 64 * 1024 * 1024,
  /** Bytes per part (`ARTIFACT_CLI_RANGED_PART_BYTES`). */
  partBytes: 4 * 1024 * 1024,
  /** Parts in flight at once (`ARTIFACT_CLI_RANGED_CONNECTIONS`; 1 turns parts off). */
  connections: 4,
  /**
   * How long one connection is watched before parts are considered
   * (`ARTIFACT_CLI_RANGED_PROBE_MS`; 0 starts with parts at once).
   */
  probeMs: 250,
  /** Attempts per part before the download fails. */
  attempts: 3,
} as const;

/** The effective settings of a ranged download. */
export interface RangedSettings {
  minBytes: number;
  partBytes: number;
  connections: number;
  probeMs: number;
}

/** The effective settings, with the environment's overrides. */
export function rangedSettings(): RangedSettings {
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
    probeMs: number("ARTIFACT_CLI_RANGED_PROBE_MS", RANGED_DOWNLOAD.probeMs, 0),
  };
}

/** Sends `GET` with `Range: bytes=start-end` (inclusive) and returns the answer. */
export type RangeRequest = (start: number, end: number) => Promise<Response>;

/**
 * Start a download of `size` bytes. Resolves to the ordered stream (a byte
 * stream), or to `{ whole }` when the first answer is a plain 200 (Range
 * ignored): the caller then reads that response as one stream.
 *
 * @example
 * ```ts ignore
 * import { rangedDownload } from "./ranged_download.ts";
 * const url = "http://127.0.0.1:5000/v2/team/disk/blobs/sha256:...";
 * const size = 256 * 1024 * 1024;
 * const started = await rangedDownload(size, (start, end) =>
 *   fetch(url, { headers: { Range: `bytes=${start}-${end}` } }), "disk blob");
 * const body = "stream" in started ? started.stream : started.whole.body!;
 * ```
 */
export async function rangedDownload(
  size: number,
  request: RangeRequest,
  what: string,
  settings: RangedSettings = rangedSettings(),
  debug: (line: string) => void = () => {},
): Promise<{ stream: ReadableStream<Uint8Array> } | { whole: Response }> {
  const probing = settings.probeMs > 0;
  const firstEnd = probing ? size - 1 : Math.min(size, settings.partBytes) - 1;
  const first = await request(0, firstEnd);
  if (first.status !== 206) return { whole: first };
  const download = new RangedDownload(size, request, what, settings, debug);
  if (probing) download.lead(first);
  else download.partsFromStart(first);
  return { stream: download.stream() };
}

/** One part after the lead stream: received into a pooled buffer, taken out in order. */
interface Part {
  start: number;
  length: number;
  buffer: Uint8Array<ArrayBuffer>;
  received: number;
  taken: number;
  failure?: { error: unknown };
  done: boolean;
}

const SCRATCH_BYTES = 256 * 1024;

class RangedDownload {
  #cancelled = false;
  /** The lead stream: one request from 0, read into the consumer's views up to `#cut`. */
  #leadBody: ReadableStreamBYOBReader | undefined;
  #leadPos = 0;
  #leadScratch = new Uint8Array(SCRATCH_BYTES * 4);
  #cut: number;
  #waitedMs = 0;
  #decided = false;
  readonly #began = performance.now();
  readonly #parts: Part[] = [];
  #receiving = 0;
  #nextPartStart: number;
  readonly #pool: Uint8Array<ArrayBuffer>[] = [];
  readonly #scratch: Uint8Array<ArrayBuffer>[] = [];
  #wake: (() => void) | undefined;

  constructor(
    readonly size: number,
    readonly request: RangeRequest,
    readonly what: string,
    readonly settings: RangedSettings,
    readonly debug: (line: string) => void,
  ) {
    this.#cut = size;
    this.#nextPartStart = size;
  }

  lead(first: Response): void {
    this.#leadBody = checkedBody(first, 0, this.size - 1, this.size, this.what);
  }

  partsFromStart(first: Response): void {
    this.#cut = 0;
    this.#nextPartStart = 0;
    this.#decided = true;
    this.debug(`${this.what}: ${this.settings.connections} Range parts at once from the start`);
    this.#fill(first);
  }

  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream({
      type: "bytes",
      autoAllocateChunkSize: SCRATCH_BYTES * 4,
      pull: async (controller) => {
        const request = controller.byobRequest!;
        const v = request.view!;
        const view = new Uint8Array(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength);
        const n = this.#leadPos < this.#cut
          ? await this.#readLead(view)
          : await this.#readParts(view);
        if (n === null) {
          controller.close();
          request.respond(0);
        } else request.respond(n);
      },
      cancel: () => this.#cancel(),
    });
  }

  /**
   * Read the lead stream into `view` (through a scratch buffer: a BYOB read
   * that fails takes the buffer it was given with it, and a dropped lead is
   * resumed); decide on parts once the probe is over.
   */
  async #readLead(view: Uint8Array<ArrayBuffer>): Promise<number> {
    const want = Math.min(view.byteLength, this.#leadScratch.byteLength, this.#cut - this.#leadPos);
    for (let attempt = 0;; attempt++) {
      try {
        const started = performance.now();
        const { value, done } = await this.#leadBody!.read(this.#leadScratch.subarray(0, want));
        this.#waitedMs += performance.now() - started;
        if (done || !value) throw new Error(`the stream ended at byte ${this.#leadPos}`);
        this.#leadScratch = new Uint8Array(value.buffer); // the read transferred it
        view.set(value);
        this.#leadPos += value.byteLength;
        this.#probe();
        if (this.#leadPos === this.#cut) {
          await this.#leadBody!.cancel().catch(() => {});
          this.#leadBody = undefined;
          this.#fill();
        }
        return value.byteLength;
      } catch (e) {
        if (e instanceof IntegrityError || attempt + 1 >= RANGED_DOWNLOAD.attempts) throw e;
        if (this.#leadScratch.buffer.detached) this.#leadScratch = new Uint8Array(SCRATCH_BYTES);
        await this.#leadBody?.cancel().catch(() => {});
        if (this.#cancelled) throw e;
        const end = this.#cut - 1;
        const again = await this.request(this.#leadPos, end);
        this.#leadBody = checkedBody(again, this.#leadPos, end, this.size, this.what);
      }
    }
  }

  /** After the probe: when the consumer mostly waited, fetch the rest in parts. */
  #probe(): void {
    if (this.#decided || this.settings.connections < 2) return;
    const elapsed = performance.now() - this.#began;
    if (elapsed < this.settings.probeMs || this.#leadPos < this.settings.partBytes) return;
    this.#decided = true; // once
    const waited = `waited for the network ${this.#waitedMs.toFixed(0)} of ${
      elapsed.toFixed(0)
    } ms`;
    if (this.#waitedMs * 2 < elapsed) {
      return this.debug(`${this.what}: one connection is fast enough (${waited})`);
    }
    const part = this.settings.partBytes;
    // The lead keeps a part's worth ahead, so the consumer does not wait for the first part.
    this.#cut = Math.min(this.size, (Math.floor(this.#leadPos / part) + 2) * part);
    this.#nextPartStart = this.#cut;
    this.debug(
      `${this.what}: ${this.settings.connections} Range parts at once from byte ${this.#cut} (${waited})`,
    );
    this.#fill();
  }

  /** Copy the next bytes of the current part into `view`; null at the end. */
  async #readParts(view: Uint8Array<ArrayBuffer>): Promise<number | null> {
    for (;;) {
      const part = this.#parts[0];
      if (!part) return null;
      if (part.taken < part.received) {
        const n = Math.min(view.byteLength, part.received - part.taken);
        view.set(part.buffer.subarray(part.taken, part.taken + n));
        part.taken += n;
        if (part.taken === part.length) {
          this.#parts.shift();
          this.#pool.push(part.buffer);
          this.#fill();
        }
        return n;
      }
      if (part.failure) throw part.failure.error;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** Start parts until `connections` are in flight (the lead counts as one). */
  #fill(first?: Response): void {
    const { partBytes, connections } = this.settings;
    const lead = this.#leadPos < this.#cut ? 1 : 0;
    while (
      !this.#cancelled && this.#nextPartStart < this.size &&
      this.#parts.length + lead < connections && this.#receiving + lead < connections
    ) {
      const start = this.#nextPartStart;
      const length = Math.min(partBytes, this.size - start);
      const buffer = this.#pool.pop() ?? new Uint8Array(partBytes);
      const part: Part = { start, length, buffer, received: 0, taken: 0, done: false };
      this.#parts.push(part);
      this.#nextPartStart += length;
      this.#receiving++;
      void this.#receive(part, start === 0 ? first : undefined);
    }
  }

  async #receive(part: Part, answer?: Response): Promise<void> {
    const end = part.start + part.length - 1;
    // BYOB reads transfer the buffer they are given: the holder keeps its current owner.
    const scratch = { buffer: this.#scratch.pop() ?? new Uint8Array(SCRATCH_BYTES) };
    let lastError: unknown;
    try {
      for (let attempt = 0; attempt < RANGED_DOWNLOAD.attempts; attempt++) {
        const from = part.start + part.received;
        const response = attempt === 0 && answer ? answer : await this.request(from, end);
        try {
          const reader = checkedBody(response, from, end, this.size, this.what);
          await this.#readInto(reader, part, scratch);
          part.done = true;
          return;
        } catch (e) {
          if (e instanceof IntegrityError) throw e; // the registry answered, wrongly
          lastError = e; // a dropped connection: ask for the rest of the part again
          // A failed BYOB read keeps the buffer it was given.
          if (scratch.buffer.buffer.detached) scratch.buffer = new Uint8Array(SCRATCH_BYTES);
        }
        if (this.#cancelled) return;
      }
      throw lastError;
    } catch (e) {
      part.failure = { error: e };
    } finally {
      if (!scratch.buffer.buffer.detached) this.#scratch.push(scratch.buffer);
      // A part counts against the connections until its answer ended, not when its last byte came.
      this.#receiving--;
      this.#fill();
      this.#notify();
    }
  }

  async #readInto(
    reader: ReadableStreamBYOBReader,
    part: Part,
    scratch: { buffer: Uint8Array<ArrayBuffer> },
  ): Promise<void> {
    const read = async (length: number) => {
      const { value, done } = await reader.read(scratch.buffer.subarray(0, length));
      if (value) scratch.buffer = new Uint8Array(value.buffer as ArrayBuffer);
      return done ? undefined : value;
    };
    try {
      while (part.received < part.length) {
        if (this.#cancelled) return;
        const value = await read(Math.min(scratch.buffer.byteLength, part.length - part.received));
        if (!value) {
          throw new Error(
            `part ${part.start} ended after ${part.received} of ${part.length} bytes`,
          );
        }
        part.buffer.set(value, part.received);
        part.received += value.byteLength;
        this.#notify();
      }
      // Nothing may follow the part's last byte.
      if (await read(1)) {
        throw new IntegrityError(`${this.what}: part at ${part.start} is longer than asked for`);
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #cancel(): void {
    this.#cancelled = true; // nothing more is requested; readers stop at their next chunk
    void this.#leadBody?.cancel().catch(() => {});
    this.#parts.length = 0;
    this.#notify();
  }
}

/** The body of a 206 answer for `start-end`, after checking its Content-Range. */
function checkedBody(
  response: Response,
  start: number,
  end: number,
  size: number,
  what: string,
): ReadableStreamBYOBReader {
  if (response.status !== 206) {
    void response.body?.cancel().catch(() => {});
    throw new IntegrityError(`${what}: part ${start}-${end} answered ${response.status}, not 206`);
  }
  const range = response.headers.get("content-range");
  const match = range && /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
  if (
    !match || Number(match[1]) !== start || Number(match[2]) !== end ||
    (match[3] !== "*" && Number(match[3]) !== size)
  ) {
    void response.body?.cancel().catch(() => {});
    throw new IntegrityError(
      `${what}: asked for bytes ${start}-${end}/${size}, the registry sent ${
        range ?? "no Content-Range"
      }`,
    );
  }
  if (!response.body) throw new Error(`${what}: part ${start}-${end} has no body`);
  return byteReader(response.body);
}

/** A BYOB reader of `body`; a body that is not a byte stream is wrapped into one (copied). */
function byteReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    const reader = body.getReader();
    let rest: Uint8Array | undefined;
    return new ReadableStream({
      type: "bytes",
      async pull(controller) {
        const view = controller.byobRequest!.view as Uint8Array;
        if (!rest?.byteLength) {
          const { value, done } = await reader.read();
          if (done) {
            controller.close();
            return controller.byobRequest!.respond(0);
          }
          rest = value;
        }
        const n = Math.min(view.byteLength, rest.byteLength);
        view.set(rest.subarray(0, n));
        rest = rest.subarray(n);
        controller.byobRequest!.respond(n);
      },
      cancel: (reason) => reader.cancel(reason),
    }).getReader({ mode: "byob" });
  }
}
