/**
 * A push-based streaming tar parser. Bytes go in with `write`; the sink gets
 * `entry` / `data` / `endEntry` calls synchronously, with no promise per
 * entry, so extracting many small files stays cheap. PAX ('x', 'g') and GNU
 * long name/link ('L', 'K') records are folded into the following entry.
 *
 * @module
 */

import { ParseError } from "../errors.ts";
import { BLOCK, decodeHeader, isZeroBlock, parsePaxRecords, type TarHeader } from "./tar_header.ts";

/** Receives parsed entries. All calls are synchronous. */
export interface TarSink {
  /** A new entry starts; its body (if any) follows through `data`. */
  entry(header: TarHeader): void;
  /** A piece of the current entry's body. The buffer may be reused after the call. */
  data(chunk: Uint8Array): void;
  /** The current entry's body is complete. */
  endEntry(): void;
}

/**
 * Most bytes of PAX and GNU long-name records in front of one entry, and of
 * global PAX records in a whole archive. Honest archives use a few hundred
 * bytes; the cap keeps a stream of metadata headers from growing memory or
 * running forever without producing an entry.
 */
const MAX_META_BYTES = 1024 * 1024;

const enum State {
  Header,
  Body,
  Meta,
  Padding,
  End,
}

/**
 * Streaming tar parser.
 *
 * @example
 * ```ts
 * import { TarParser } from "./tar_reader.ts";
 * const names: string[] = [];
 * const parser = new TarParser({ entry: (h) => names.push(h.name), data() {}, endEntry() {} });
 * parser.write(new Uint8Array(1024)); // an empty archive: two zero blocks
 * parser.finish();
 * ```
 */
export class TarParser {
  #sink: TarSink;
  #state = State.Header;
  #header = new Uint8Array(BLOCK);
  #headerFill = 0;
  #remaining = 0;
  #padding = 0;
  #meta: Uint8Array = new Uint8Array(0);
  #metaFill = 0;
  #metaKind = "";
  #pending: Map<string, string> = new Map();
  #global: Map<string, string> = new Map();
  #zeroBlocks = 0;
  #entries = 0;
  /** Header and metadata bytes read since the last entry. */
  #headerBytes = 0;
  /** Metadata record bytes pending for the next entry, and global records ever read. */
  #pendingMetaBytes = 0;
  #globalMetaBytes = 0;

  constructor(sink: TarSink) {
    this.#sink = sink;
  }

  /** Number of entries delivered so far. */
  get entries(): number {
    return this.#entries;
  }

  /**
   * True once the end-of-archive marker was read: nothing after it is an
   * entry, so a caller may stop decompressing (trailing data can be a bomb).
   */
  get ended(): boolean {
    return this.#state === State.End;
  }

  /** Feed the next bytes of the archive. */
  write(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.byteLength) {
      switch (this.#state) {
        case State.Header: {
          const take = Math.min(BLOCK - this.#headerFill, chunk.byteLength - pos);
          if (this.#headerFill === 0 && take === BLOCK) {
            this.#onHeader(chunk.subarray(pos, pos + BLOCK));
          } else {
            this.#header.set(chunk.subarray(pos, pos + take), this.#headerFill);
            this.#headerFill += take;
            if (this.#headerFill === BLOCK) {
              this.#headerFill = 0;
              this.#onHeader(this.#header);
            }
          }
          pos += take;
          break;
        }
        case State.Body: {
          const take = Math.min(this.#remaining, chunk.byteLength - pos);
          this.#sink.data(chunk.subarray(pos, pos + take));
          this.#remaining -= take;
          pos += take;
          if (this.#remaining === 0) {
            this.#sink.endEntry();
            this.#state = this.#padding ? State.Padding : State.Header;
          }
          break;
        }
        case State.Meta: {
          const take = Math.min(this.#remaining, chunk.byteLength - pos);
          this.#meta.set(chunk.subarray(pos, pos + take), this.#metaFill);
          this.#metaFill += take;
          this.#remaining -= take;
          pos += take;
          if (this.#remaining === 0) {
            this.#onMeta();
            this.#state = this.#padding ? State.Padding : State.Header;
          }
          break;
        }
        case State.Padding: {
          const take = Math.min(this.#padding, chunk.byteLength - pos);
          this.#padding -= take;
          pos += take;
          if (this.#padding === 0) this.#state = State.Header;
          break;
        }
        case State.End:
          // Trailing bytes after the end marker (block padding) are ignored.
          return;
      }
    }
  }

  /** The input ended: throws if it ended inside an entry. */
  finish(): void {
    if (this.#state === State.End) return;
    if (this.#state === State.Header && this.#headerFill === 0 && this.#pending.size === 0) {
      // A missing end-of-archive marker is tolerated (GNU tar only warns).
      return;
    }
    throw new ParseError("tar archive is truncated");
  }

  #onHeader(block: Uint8Array): void {
    if (isZeroBlock(block)) {
      this.#zeroBlocks++;
      if (this.#zeroBlocks === 2) this.#state = State.End;
      return;
    }
    if (this.#zeroBlocks > 0) throw new ParseError("tar archive has data after a zero block");
    const raw = decodeHeader(block);
    const padding = (BLOCK - (raw.size % BLOCK)) % BLOCK;
    this.#headerBytes += BLOCK;
    if (
      raw.typeflag === "x" || raw.typeflag === "g" || raw.typeflag === "L" || raw.typeflag === "K"
    ) {
      const total = raw.typeflag === "g"
        ? (this.#globalMetaBytes += raw.size)
        : (this.#pendingMetaBytes += raw.size);
      if (total > MAX_META_BYTES) {
        throw new ParseError(
          `tar ${
            raw.typeflag === "g" ? "global PAX records" : "metadata records for one entry"
          } exceed the limit of ${MAX_META_BYTES} bytes`,
        );
      }
      this.#headerBytes += raw.size + padding;
      this.#metaKind = raw.typeflag;
      this.#meta = new Uint8Array(raw.size);
      this.#metaFill = 0;
      this.#remaining = raw.size;
      this.#padding = padding;
      if (raw.size === 0) {
        this.#onMeta();
        this.#state = padding ? State.Padding : State.Header;
      } else {
        this.#state = State.Meta;
      }
      return;
    }
    const header = this.#applyOverrides(raw);
    header.headerBytes = this.#headerBytes;
    this.#headerBytes = 0;
    this.#pendingMetaBytes = 0;
    this.#entries++;
    this.#sink.entry(header);
    // Only regular files carry a body in practice; any declared size is still skipped.
    this.#remaining = header.size;
    this.#padding = (BLOCK - (header.size % BLOCK)) % BLOCK;
    if (header.size === 0) {
      this.#sink.endEntry();
      this.#state = this.#padding ? State.Padding : State.Header;
    } else {
      this.#state = State.Body;
    }
  }

  #onMeta(): void {
    const bytes = this.#meta.subarray(0, this.#metaFill);
    switch (this.#metaKind) {
      case "x":
        for (const [k, v] of parsePaxRecords(bytes)) this.#pending.set(k, v);
        break;
      case "g":
        for (const [k, v] of parsePaxRecords(bytes)) this.#global.set(k, v);
        break;
      case "L":
        this.#pending.set("path", nulTerminated(bytes));
        break;
      case "K":
        this.#pending.set("linkpath", nulTerminated(bytes));
        break;
    }
    this.#meta = new Uint8Array(0);
  }

  #applyOverrides(raw: TarHeader): TarHeader {
    const header: TarHeader = { ...raw };
    for (const records of [this.#global, this.#pending]) {
      for (const [key, value] of records) {
        switch (key) {
          case "path":
            header.name = value;
            break;
          case "linkpath":
            header.linkname = value;
            break;
          case "size":
            header.size = paxNumber(value, key);
            break;
          case "uid":
            header.uid = paxNumber(value, key);
            break;
          case "gid":
            header.gid = paxNumber(value, key);
            break;
          case "mtime":
            header.mtime = Math.floor(Number(value)) || 0;
            break;
          case "uname":
            header.uname = value;
            break;
          case "gname":
            header.gname = value;
            break;
          default:
            if (key.startsWith("GNU.sparse.")) {
              throw new ParseError("sparse tar entries are not supported");
            }
        }
      }
    }
    this.#pending = new Map();
    return header;
  }
}

function paxNumber(value: string, key: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ParseError(`invalid PAX ${key} ${JSON.stringify(value.slice(0, 40))}`);
  }
  return Number(value);
}

function nulTerminated(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
}
