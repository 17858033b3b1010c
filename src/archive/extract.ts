/**
 * Safe extraction of layers into a directory that this process owns (a fresh
 * temporary directory, renamed into place by the caller on success).
 *
 * Safety rests on one fact: every path under the root was created by this
 * extractor, so an in-memory tree of what exists is exact. With it:
 * - no entry is written through a symlink, because each parent is checked in
 *   the tree, and files are created with O_EXCL (never following a link);
 * - `..` components are refused, leading `/` is stripped (as GNU tar does);
 * - hard links must point at a regular file already extracted;
 * - devices, FIFOs and unknown types are skipped; setuid/setgid are dropped;
 * - total size and entry count are limited (decompression bombs): every byte
 *   of the stream counts, bodies of skipped entries and tar metadata too;
 * - names and symlink targets longer than the system allows are refused up
 *   front, with a clear message, rather than failing half-way in a syscall.
 *
 * Layers are applied in order with OCI whiteouts (`.wh.name`, `.wh..wh..opq`).
 *
 * @module
 */

import { isReservedName, reservedNameMessage } from "./reserved_names.ts";
import { join } from "node:path";
import { UnsafeContentError } from "../errors.ts";
import type { TarHeader } from "./tar_header.ts";
import type { TarSink } from "./tar_reader.ts";

/** Options for {@link TreeWriter}. */
export interface ExtractOptions {
  /**
   * Most bytes in total (default 32 GiB): file content, bodies of skipped
   * entries and tar headers/metadata, summed over all layers.
   */
  maxBytes?: number;
  /** Most entries in total (default 1,000,000). */
  maxEntries?: number;
  /** Receives one line per neutralised or skipped entry. */
  onWarning?: (message: string) => void;
}

/** Per-layer options. */
export interface LayerOptions {
  /** Rewrites each file/directory mode after setuid/setgid are dropped. */
  mapMode?: (mode: number, type: "file" | "directory") => number;
  /** Name used in messages, e.g. the layer digest. */
  label?: string;
}

type NodeKind = "dir" | "file" | "symlink";

interface Node {
  kind: NodeKind;
  /** Index of the layer that last wrote this node (whiteouts only hit lower layers). */
  layer: number;
  children?: Map<string, Node>;
  /** Mode of an explicit directory entry, applied in finish(). */
  mode?: number;
}

/** Most bytes a pull writes unless --max-size says otherwise. */
export const DEFAULT_MAX_BYTES = 32 * 1024 ** 3;
const DEFAULT_MAX_ENTRIES = 1_000_000;
const OPAQUE = ".wh..wh..opq";
const WHITEOUT = ".wh.";
/** Linux PATH_MAX, counting the terminating NUL: the longest path a syscall accepts. */
const PATH_MAX = 4096;
const NAME_MAX = 255;
const encoder = new TextEncoder();
/** The process umask (files are created with mode & ~umask), if it can be read. */
const UMASK: number | undefined = (() => {
  try {
    return Deno.umask();
  } catch {
    return undefined;
  }
})();

/**
 * Writes tar layers into `root`, which must be an empty directory created by
 * the caller for this purpose.
 *
 * @example
 * ```ts
 * import { TreeWriter } from "./extract.ts";
 * const root = await Deno.makeTempDir();
 * const writer = new TreeWriter(root);
 * const sink = writer.beginLayer();
 * sink.entry({ name: "hi.txt", type: "file", typeflag: "0", mode: 0o644, uid: 0, gid: 0,
 *   size: 2, mtime: 0, linkname: "", uname: "", gname: "" });
 * sink.data(new TextEncoder().encode("hi"));
 * sink.endEntry();
 * writer.finish();
 * ```
 */
export class TreeWriter {
  readonly #root: string;
  readonly #rootBytes: number;
  readonly #tree: Node = { kind: "dir", layer: -1, children: new Map() };
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #warn: (message: string) => void;
  #layer = -1;
  #layerOptions: LayerOptions = {};
  #bytes = 0;
  #entries = 0;
  /** A file entry whose content has not started yet. */
  #pending: { abs: string; mode: number; size: number } | undefined;
  #file: Deno.FsFile | undefined;
  #fileAbs = "";
  /** Mode to set after writing; undefined when the file was created with it. */
  #fileMode: number | undefined;
  #warnedAbsolute = false;
  #droppedSpecialBits = 0;
  #leaves: { layer: number; file: Node; symlink: Node } | undefined;

  constructor(root: string, options: ExtractOptions = {}) {
    this.#root = root.length > 1 ? root.replace(/\/+$/, "") : root;
    this.#rootBytes = encoder.encode(this.#root).byteLength;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#warn = options.onWarning ?? (() => {});
  }

  /** Bytes counted against `maxBytes` so far (content, skipped bodies, tar metadata). */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /** Start the next layer; returns the sink to feed its tar entries to. */
  beginLayer(options: LayerOptions = {}): TarSink {
    this.#endLayerWarnings();
    this.#layer++;
    this.#layerOptions = options;
    this.#warnedAbsolute = false;
    return {
      entry: (header) => this.#entry(header),
      data: (chunk) => this.#data(chunk),
      endEntry: () => this.#endEntry(),
    };
  }

  /** Apply directory modes (deepest first) once every layer is written. */
  finish(): void {
    this.#endLayerWarnings();
    const applyModes = (node: Node, abs: string) => {
      for (const [name, child] of node.children!) {
        if (child.kind === "dir") applyModes(child, join(abs, name));
      }
      if (node.mode !== undefined) Deno.chmodSync(abs, node.mode);
    };
    applyModes(this.#tree, this.#root);
  }

  /** Close any open file after a failure, so the caller can remove the root. */
  abort(): void {
    try {
      this.#file?.close();
    } catch { /* already closed */ }
    this.#file = undefined;
    this.#pending = undefined;
  }

  #label(name: string): string {
    return this.#layerOptions.label ? `${this.#layerOptions.label}: ${name}` : name;
  }

  #entry(header: TarHeader): void {
    if (++this.#entries > this.#maxEntries) {
      throw new UnsafeContentError(`more than ${this.#maxEntries} entries; refusing to extract`);
    }
    this.#count(header.headerBytes ?? 0);
    const parts = this.#cleanPath(header.name, "member names");
    if (parts.length === 0) {
      if (header.type === "directory") return; // the root itself ("." or "./")
      throw new UnsafeContentError(
        `${this.#label(header.name)}: a ${header.type} cannot replace the root`,
      );
    }
    const name = parts[parts.length - 1];
    if (name.startsWith(WHITEOUT)) return this.#whiteout(parts, header.name);

    switch (header.type) {
      case "chardev":
      case "blockdev":
      case "fifo":
        this.#warn(
          `skipping ${this.#label(header.name)}: ${header.type} entries are not extracted`,
        );
        return;
      case "other":
        if (header.typeflag === "S") {
          // Skipping would silently lose the file; its body is a sparse map, not the content.
          throw new UnsafeContentError(
            `${this.#label(header.name)}: sparse files (GNU type 'S') are not supported`,
          );
        }
        this.#warn(
          `skipping ${this.#label(header.name)}: unsupported tar entry type '${header.typeflag}'`,
        );
        return;
    }

    const parent = this.#parentOf(parts, header.name);
    // Components are clean (no "", ".", ".."), so plain joining is exact.
    const abs = `${this.#root}/${parts.join("/")}`;
    const existing = parent.children!.get(name);
    if (header.type === "directory" && existing?.kind === "dir") {
      existing.layer = this.#layer;
      existing.mode = this.#mode(header.mode, "directory");
      return;
    }
    if (existing) this.#remove(parent, name, abs);

    switch (header.type) {
      case "directory":
        Deno.mkdirSync(abs, { mode: 0o700 });
        parent.children!.set(name, {
          kind: "dir",
          layer: this.#layer,
          children: new Map(),
          mode: this.#mode(header.mode, "directory"),
        });
        return;
      case "symlink":
        if (header.linkname === "" || header.linkname.includes("\0")) {
          throw new UnsafeContentError(`${this.#label(header.name)}: invalid symlink target`);
        }
        if (encoder.encode(header.linkname).byteLength >= PATH_MAX) {
          throw new UnsafeContentError(
            `${this.#label(header.name)}: symlink target is longer than ${PATH_MAX - 1} bytes`,
          );
        }
        Deno.symlinkSync(header.linkname, abs);
        parent.children!.set(name, this.#leaf("symlink"));
        return;
      case "hardlink": {
        const targetParts = this.#cleanPath(header.linkname, "hard link targets");
        const target = this.#lookup(targetParts, header.linkname);
        if (!target || target.kind !== "file") {
          throw new UnsafeContentError(
            `${this.#label(header.name)}: hard link to ${
              JSON.stringify(header.linkname)
            }, which is not a regular file extracted earlier`,
          );
        }
        Deno.linkSync(join(this.#root, ...targetParts), abs);
        parent.children!.set(name, this.#leaf("file"));
        return;
      }
      case "file":
        // Created when its content arrives: most files come in one piece and
        // take a single call (open, write, close) instead of four.
        this.#pending = { abs, mode: this.#mode(header.mode, "file"), size: header.size };
        parent.children!.set(name, this.#leaf("file"));
        return;
    }
  }

  #data(chunk: Uint8Array): void {
    // Bodies of skipped entries count too: a device entry may declare terabytes of zeros.
    this.#count(chunk.byteLength);
    if (!this.#file && !this.#pending) return; // body of a skipped entry
    const pending = this.#pending;
    if (pending) {
      this.#pending = undefined;
      if (chunk.byteLength === pending.size) {
        // createNew (O_EXCL) never follows a symlink; mode is set exactly (fchmod).
        Deno.writeFileSync(pending.abs, chunk, { createNew: true, mode: pending.mode });
        return;
      }
      this.#open(pending.abs, pending.mode);
    }
    const file = this.#file!;
    let written = 0;
    while (written < chunk.byteLength) written += file.writeSync(chunk.subarray(written));
  }

  /**
   * Create a file for streamed content, with its final mode (the descriptor
   * stays writable even for a read-only mode); chmod after writing only when
   * the umask took bits away.
   */
  #open(abs: string, mode: number): void {
    this.#file = Deno.openSync(abs, { write: true, createNew: true, mode });
    this.#fileAbs = abs;
    this.#fileMode = UMASK !== undefined && (mode & ~UMASK) === mode ? undefined : mode;
  }

  #endEntry(): void {
    const pending = this.#pending;
    if (pending) {
      // An empty file (no data arrived).
      this.#pending = undefined;
      Deno.writeFileSync(pending.abs, new Uint8Array(0), { createNew: true, mode: pending.mode });
      return;
    }
    if (!this.#file) return;
    this.#file.close();
    this.#file = undefined;
    if (this.#fileMode !== undefined) Deno.chmodSync(this.#fileAbs, this.#fileMode);
  }

  #count(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes > this.#maxBytes) {
      throw new UnsafeContentError(
        `content exceeds the size limit of ${this.#maxBytes} bytes (use --max-size to raise it)`,
      );
    }
  }

  #mode(mode: number, type: "file" | "directory"): number {
    if (mode & 0o6000) this.#droppedSpecialBits++;
    const safe = mode & 0o1777;
    return this.#layerOptions.mapMode ? this.#layerOptions.mapMode(safe, type) & 0o1777 : safe;
  }

  #endLayerWarnings(): void {
    if (this.#droppedSpecialBits) {
      this.#warn(`dropped setuid/setgid bits from ${this.#droppedSpecialBits} entries`);
      this.#droppedSpecialBits = 0;
    }
  }

  /** Split a member name (or hard link target) into safe components, or refuse it. */
  #cleanPath(raw: string, what: string): string[] {
    if (raw.includes("\0")) throw new UnsafeContentError(`refusing entry with a NUL in its name`);
    if (raw.startsWith("/") && !this.#warnedAbsolute) {
      this.#warnedAbsolute = true;
      this.#warn(`${this.#label(raw)}: removing leading "/" from ${what}`);
    }
    const parts: string[] = [];
    let pathBytes = this.#rootBytes;
    for (const part of raw.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        throw new UnsafeContentError(`refusing ${JSON.stringify(raw)}: path contains ".."`);
      }
      if (isReservedName(part)) throw new UnsafeContentError(reservedNameMessage(raw));
      const partBytes = utf8Length(part);
      if (partBytes > NAME_MAX) {
        throw new UnsafeContentError(
          `refusing ${shorten(raw)}: a path component is longer than ${NAME_MAX} bytes`,
        );
      }
      pathBytes += 1 + partBytes;
      if (pathBytes >= PATH_MAX) {
        throw new UnsafeContentError(
          `refusing ${shorten(raw)}: the path is longer than the system allows (${PATH_MAX} bytes)`,
        );
      }
      parts.push(part);
    }
    return parts;
  }

  /**
   * The node of a file or symlink written by this layer. Leaves are never
   * changed, so all of one layer's share one object: at 100 000 files the
   * tree then holds names and directories, not an object per file.
   */
  #leaf(kind: "file" | "symlink"): Node {
    let leaves = this.#leaves;
    if (leaves?.layer !== this.#layer) {
      leaves = this.#leaves = {
        layer: this.#layer,
        file: Object.freeze({ kind: "file", layer: this.#layer }),
        symlink: Object.freeze({ kind: "symlink", layer: this.#layer }),
      };
    }
    return leaves[kind];
  }

  /** The directory node that will hold `parts`, creating missing directories. */
  #parentOf(parts: string[], raw: string): Node {
    let node = this.#tree;
    let abs = this.#root;
    for (let i = 0; i < parts.length - 1; i++) {
      abs = `${abs}/${parts[i]}`;
      let child = node.children!.get(parts[i]);
      if (!child) {
        Deno.mkdirSync(abs, { mode: 0o755 });
        child = { kind: "dir", layer: this.#layer, children: new Map() };
        node.children!.set(parts[i], child);
      } else if (child.kind === "symlink") {
        throw new UnsafeContentError(
          `refusing ${JSON.stringify(raw)}: ${parts.slice(0, i + 1).join("/")} is a symlink`,
        );
      } else if (child.kind !== "dir") {
        throw new UnsafeContentError(
          `refusing ${JSON.stringify(raw)}: ${parts.slice(0, i + 1).join("/")} is not a directory`,
        );
      }
      node = child;
    }
    return node;
  }

  /** The node at `parts`, or undefined; refuses paths through a symlink. */
  #lookup(parts: string[], raw: string): Node | undefined {
    let node: Node | undefined = this.#tree;
    for (let i = 0; i < parts.length; i++) {
      if (node?.kind === "symlink") {
        throw new UnsafeContentError(
          `refusing ${JSON.stringify(raw)}: ${parts.slice(0, i).join("/")} is a symlink`,
        );
      }
      if (node?.kind !== "dir") return undefined;
      node = node.children!.get(parts[i]);
    }
    return node;
  }

  #remove(parent: Node, name: string, abs: string): void {
    const node = parent.children!.get(name);
    if (!node) return;
    // Directories stay owner-writable until finish(), so recursive removal works.
    Deno.removeSync(abs, { recursive: node.kind === "dir" });
    parent.children!.delete(name);
  }

  #whiteout(parts: string[], raw: string): void {
    let parent: Node | undefined;
    try {
      parent = this.#lookup(parts.slice(0, -1), raw);
    } catch (e) {
      if (!(e instanceof UnsafeContentError)) throw e;
      parent = { kind: "symlink", layer: -1 }; // a symlink further up the path
    }
    if (parent?.kind === "symlink") {
      // Never delete through a link: what it points at is not part of this tree.
      this.#warn(`ignoring whiteout ${this.#label(raw)}: its parent is a symlink`);
      return;
    }
    if (parent?.kind !== "dir") return; // nothing below to hide
    const dirAbs = join(this.#root, ...parts.slice(0, -1));
    const name = parts[parts.length - 1];
    if (name === OPAQUE) {
      for (const [child, node] of [...parent.children!]) {
        if (node.layer < this.#layer) this.#remove(parent, child, join(dirAbs, child));
      }
      return;
    }
    const target = name.slice(WHITEOUT.length);
    if (target === "" || target === "." || target === "..") {
      throw new UnsafeContentError(`refusing whiteout ${JSON.stringify(raw)}`);
    }
    const node = parent.children!.get(target);
    if (node && node.layer < this.#layer) this.#remove(parent, target, join(dirAbs, target));
  }
}

/** UTF-8 length of a string without encoding it (names are measured per entry). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else bytes += 2; // 3 bytes (a lone surrogate becomes U+FFFD, also 3)
  }
  return bytes;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code < 0xdc00;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code < 0xe000;
}

function shorten(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}...` : raw);
}
