/**
 * Test support: a fault-injecting HTTP/1.1 proxy on loopback in front of a
 * real registry (or token server). It is a raw TCP server (Deno.listen), not
 * Deno.serve, so it controls every byte: it can send a status line and part
 * of a body and then drop the connection, declare a Content-Length that lies,
 * or stop reading an upload half-way. Requests are forwarded with fetch
 * (method, path, headers, streamed bodies); answers are written back with
 * `Connection: close` (one request per connection keeps the framing simple
 * and lets a fault end a connection without affecting others). Absolute
 * `Location` headers pointing at the upstream are rewritten to the proxy.
 *
 * A dropped connection is a close after a partial message: the client sees
 * the body (or the upload) end before its declared length, as after a reset.
 * Deno cannot send a TCP RST (no SO_LINGER), so that is as close as it gets.
 */

/** What to do to one request. */
export type Fault =
  /** Answer with this status (the request body is read first). */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Forward, send the answer's head and the first `afterBytes` body bytes, then drop. */
  | { kind: "drop-response"; afterBytes: number }
  /** Read `afterBytes` bytes of the request body, then drop the connection unanswered. */
  | { kind: "drop-request"; afterBytes: number }
  /** Wait `ms` before forwarding. */
  | { kind: "delay"; ms: number }
  /** Forward; send the answer's head and `afterBytes` body bytes, then nothing for `ms` (a stall). */
  | { kind: "stall-response"; afterBytes: number; ms: number }
  /** Forward; send the body `chunkBytes` at a time, `delayMs` apart. */
  | { kind: "slow-body"; chunkBytes: number; delayMs: number }
  /** Forward; flip one byte of the body (same length). */
  | { kind: "corrupt"; offset?: number }
  /** Forward; send only the first `bytes` bytes, with a matching Content-Length (or none). */
  | { kind: "truncate"; bytes: number; withoutLength?: boolean }
  /** Forward the whole body, but declare this Content-Length. */
  | { kind: "content-length"; value: number }
  /** Forward, replacing the body (Content-Length follows the new body) and maybe headers. */
  | {
    kind: "replace-body";
    body: (original: Uint8Array) => Uint8Array;
    headers?: Record<string, string | null>;
  }
  /** Forward, setting (or with `null` removing) answer headers. */
  | { kind: "headers"; set: Record<string, string | null> }
  /** Forward without these request headers (e.g. `range`: a server that ignores Range). */
  | { kind: "drop-request-headers"; names: string[] }
  /** Answer `status` (default 307) with `Location: to(pathAndQuery)`. */
  | { kind: "redirect"; to: (pathAndQuery: string) => string; status?: number };

/** When a fault applies: matching requests, after `skip` of them, `times` times. */
export interface FaultRule {
  method?: string;
  /** Tested against the path with its query. */
  path?: RegExp;
  /** Let this many matching requests through first (default 0). */
  skip?: number;
  /** How many matching requests get the fault (default 1; Infinity = persistent). */
  times?: number;
  fault: Fault;
}

/** One request the proxy saw. */
export interface SeenRequest {
  /** 1-based, in arrival order. */
  n: number;
  method: string;
  /** Path with query. */
  path: string;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  /** The fault applied, if any. */
  fault?: Fault["kind"];
  /** Status sent (or forwarded); undefined when the connection was dropped first. */
  status?: number;
  /** Request body bytes the proxy read (forwarded, or read before a drop). */
  bodyBytes: number;
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request, in order. */
  seen: SeenRequest[];
  /** Requests being handled now, and the most at once so far (from their head to the answer's end). */
  inFlight: { current: number; peak: number };
  /** Rules, first match wins; tests may change them between runs. */
  rules: FaultRule[];
  stop(): Promise<void>;
}

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Upstream base URL, e.g. `https://127.0.0.1:5000`. */
  upstream: string;
  /** CA of the upstream (TLS). */
  caFile?: string;
  rules?: FaultRule[];
  /** Headers added to every forwarded request (e.g. a CDN's own credentials). */
  upstreamHeaders?: Record<string, string>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "host",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Start a proxy to `options.upstream` on a free loopback port.
 *
 * @example
 * ```ts ignore
 * await using proxy = await startFaultProxy({ upstream: registry.url, rules: [
 *   { method: "GET", path: /\/blobs\//, fault: { kind: "drop-response", afterBytes: 1000 } },
 * ] });
 * // pull from `${proxy.host}/repo:tag`
 * ```
 */
export function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const url = `http://127.0.0.1:${port}`;
  const upstream = new URL(options.upstream).origin;
  const client = options.caFile
    ? Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(options.caFile)] })
    : undefined;
  const seen: SeenRequest[] = [];
  const inFlight = { current: 0, peak: 0 };
  const rules = [...(options.rules ?? [])];
  const matched = new Map<FaultRule, number>();
  const connections = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();

  const pickFault = (method: string, path: string): Fault | undefined => {
    for (const rule of rules) {
      if (rule.method && rule.method !== method) continue;
      if (rule.path && !rule.path.test(path)) continue;
      const count = (matched.get(rule) ?? 0) + 1;
      matched.set(rule, count);
      const skip = rule.skip ?? 0;
      if (count > skip && count <= skip + (rule.times ?? 1)) return rule.fault;
      // A matching rule whose turn has not come (or has passed) lets later rules try.
    }
    return undefined;
  };

  const handle = async (conn: Deno.Conn) => {
    const reader = new ConnReader(conn);
    const head = await reader.readHead();
    if (!head) return; // not HTTP (a TLS probe) or nothing sent
    const [requestLine, ...headerLines] = head.split("\r\n");
    const [method, path] = requestLine.split(" ");
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
    const record: SeenRequest = { n: seen.length + 1, method, path, headers, bodyBytes: 0 };
    seen.push(record);
    inFlight.peak = Math.max(inFlight.peak, ++inFlight.current);
    try {
      await respond(conn, reader, method, path, headers, record);
    } finally {
      inFlight.current--;
    }
  };

  const respond = async (
    conn: Deno.Conn,
    reader: ConnReader,
    method: string,
    path: string,
    headers: Record<string, string>,
    record: SeenRequest,
  ) => {
    const fault = pickFault(method, path);
    record.fault = fault?.kind;
    const body = counted(requestBody(reader, headers), record);

    if (fault?.kind === "drop-request") {
      let read = 0;
      for await (const chunk of body) {
        read += chunk.byteLength;
        if (read >= fault.afterBytes) break;
      }
      return; // closed unanswered by the caller
    }
    if (fault?.kind === "status" || fault?.kind === "redirect") {
      for await (const _ of body) { /* drain */ }
      const status = fault.kind === "status" ? fault.status : fault.status ?? 307;
      const extra = fault.kind === "status" ? fault.headers ?? {} : { Location: fault.to(path) };
      const text = encoder.encode(fault.kind === "status" ? fault.body ?? "" : "");
      record.status = status;
      await writeAll(conn, head_(status, { ...extra, "Content-Length": String(text.byteLength) }));
      if (text.byteLength) await writeAll(conn, text);
      return;
    }
    if (fault?.kind === "delay") await sleep(fault.ms);

    const forwardHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (!HOP_BY_HOP.has(name)) forwardHeaders.set(name, value);
    }
    for (const [name, value] of Object.entries(options.upstreamHeaders ?? {})) {
      forwardHeaders.set(name, value);
    }
    if (fault?.kind === "drop-request-headers") {
      for (const name of fault.names) forwardHeaders.delete(name);
    }
    let forwardBody: BodyInit | undefined;
    if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      forwardBody = ReadableStream.from(body);
    } else if (headers["content-length"] !== undefined) {
      forwardBody = await collect(body) as Uint8Array<ArrayBuffer>;
    }
    const response = await fetch(`${upstream}${path}`, {
      method,
      headers: forwardHeaders,
      body: method === "GET" || method === "HEAD" ? undefined : forwardBody ?? null,
      redirect: "manual",
      client,
    } as RequestInit);
    record.status = response.status;

    const answer: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (HOP_BY_HOP.has(name)) return;
      answer[name] = name === "location" && value.startsWith(upstream)
        ? url + value.slice(upstream.length)
        : value;
    });
    const declared = response.headers.get("content-length");
    const noBody = method === "HEAD" || response.status === 204 || response.status === 304;
    if (noBody) {
      await response.body?.cancel();
      if (declared !== null) answer["content-length"] = declared;
      applyHeaderFault(fault, answer);
      await writeAll(conn, head_(response.status, answer));
      return;
    }

    if (
      fault?.kind === "drop-response" || fault?.kind === "slow-body" ||
      fault?.kind === "stall-response"
    ) {
      if (declared !== null) answer["content-length"] = declared;
      await writeAll(conn, head_(response.status, answer));
      let sent = 0;
      for await (const chunk of response.body ?? []) {
        if (fault.kind === "drop-response" || fault.kind === "stall-response") {
          const part = chunk.subarray(0, Math.max(0, fault.afterBytes - sent));
          if (part.byteLength) await writeAll(conn, part);
          sent += part.byteLength;
          if (sent >= fault.afterBytes) {
            await response.body?.cancel().catch(() => {});
            // A stall keeps the connection open and silent; the client must give up on it.
            if (fault.kind === "stall-response") await sleep(fault.ms);
            return;
          }
        } else {
          for (let at = 0; at < chunk.byteLength; at += fault.chunkBytes) {
            await writeAll(conn, chunk.subarray(at, at + fault.chunkBytes));
            await sleep(fault.delayMs);
          }
        }
      }
      return;
    }

    let bytes: Uint8Array = await collect(response.body ?? ReadableStream.from([]));
    let length: string | null = String(bytes.byteLength);
    if (fault?.kind === "corrupt") {
      bytes = bytes.slice();
      const at = Math.min(fault.offset ?? Math.floor(bytes.byteLength / 2), bytes.byteLength - 1);
      bytes[at] ^= 0x5a;
    } else if (fault?.kind === "truncate") {
      bytes = bytes.subarray(0, fault.bytes);
      length = fault.withoutLength ? null : String(bytes.byteLength);
    } else if (fault?.kind === "content-length") {
      length = String(fault.value);
    } else if (fault?.kind === "replace-body") {
      bytes = fault.body(bytes);
      length = String(bytes.byteLength);
    }
    if (length !== null) answer["content-length"] = length;
    applyHeaderFault(fault, answer);
    await writeAll(conn, head_(response.status, answer));
    // A declared length shorter than the body: send only that much (the rest would be garbage).
    const limit = fault?.kind === "content-length"
      ? Math.min(fault.value, bytes.byteLength)
      : bytes.byteLength;
    await writeAll(conn, bytes.subarray(0, limit));
  };

  (async () => {
    for await (const conn of listener) {
      connections.add(conn);
      const task = handle(conn)
        .catch(() => {/* the client went away, or a deliberate drop */})
        .finally(() => {
          connections.delete(conn);
          try {
            conn.close();
          } catch { /* already closed */ }
          handlers.delete(task);
        });
      handlers.add(task);
    }
  })().catch(() => {/* listener closed */});

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    listener.close();
    for (const conn of connections) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.allSettled([...handlers]);
    client?.close();
  };
  return Promise.resolve({
    host: `127.0.0.1:${port}`,
    url,
    seen,
    inFlight,
    rules,
    stop,
    [Symbol.asyncDispose]: stop,
  });
}

function applyHeaderFault(fault: Fault | undefined, answer: Record<string, string>): void {
  const set = fault?.kind === "headers"
    ? fault.set
    : fault?.kind === "replace-body"
    ? fault.headers ?? {}
    : {};
  for (const [name, value] of Object.entries(set)) {
    if (value === null) delete answer[name.toLowerCase()];
    else answer[name.toLowerCase()] = value;
  }
}

function head_(status: number, headers: Record<string, string>): Uint8Array {
  let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Status"}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return encoder.encode(`${text}connection: close\r\n\r\n`);
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  307: "Temporary Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  416: "Range Not Satisfiable",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The request body as chunks: Content-Length, chunked, or none. */
/** Count the request body bytes read through `body` into `record.bodyBytes`. */
async function* counted(
  body: AsyncGenerator<Uint8Array>,
  record: SeenRequest,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    record.bodyBytes += chunk.byteLength;
    yield chunk;
  }
}

async function* requestBody(
  reader: ConnReader,
  headers: Record<string, string>,
): AsyncGenerator<Uint8Array> {
  if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
    for (;;) {
      const sizeLine = await reader.readLine();
      const size = parseInt(sizeLine.split(";")[0], 16);
      if (!Number.isFinite(size)) throw new Error(`bad chunk size ${sizeLine}`);
      if (size === 0) {
        while ((await reader.readLine()) !== "") { /* trailers */ }
        return;
      }
      yield* reader.readExact(size);
      await reader.readLine();
    }
  }
  const length = Number(headers["content-length"] ?? "0");
  if (length > 0) yield* reader.readExact(length);
}

/** Buffered reading of a connection: the request head, lines, exact byte counts. */
class ConnReader {
  #buffer = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const joined = new Uint8Array(this.#buffer.byteLength + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.byteLength);
    this.#buffer = joined;
    return true;
  }

  /** The head up to the blank line, or null for EOF / non-HTTP input (a TLS ClientHello). */
  async readHead(): Promise<string | null> {
    for (;;) {
      if (this.#buffer.byteLength > 0 && this.#buffer[0] === 0x16) return null;
      const end = indexOf(this.#buffer, "\r\n\r\n");
      if (end >= 0) {
        const head = decoder.decode(this.#buffer.subarray(0, end));
        this.#buffer = this.#buffer.subarray(end + 4);
        return head;
      }
      if (this.#buffer.byteLength > 65536 || !(await this.#fill())) return null;
    }
  }

  async readLine(): Promise<string> {
    for (;;) {
      const end = indexOf(this.#buffer, "\r\n");
      if (end >= 0) {
        const line = decoder.decode(this.#buffer.subarray(0, end));
        this.#buffer = this.#buffer.subarray(end + 2);
        return line;
      }
      if (!(await this.#fill())) throw new Error("connection closed in a line");
    }
  }

  async *readExact(count: number): AsyncGenerator<Uint8Array> {
    let left = count;
    while (left > 0) {
      if (this.#buffer.byteLength === 0 && !(await this.#fill())) {
        throw new Error("connection closed in a body");
      }
      const part = this.#buffer.slice(0, left);
      this.#buffer = this.#buffer.subarray(part.byteLength);
      left -= part.byteLength;
      yield part;
    }
  }
}

function indexOf(buffer: Uint8Array, text: string): number {
  const needle = encoder.encode(text);
  outer: for (let i = 0; i + needle.byteLength <= buffer.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (buffer[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
